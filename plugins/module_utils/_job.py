# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""A module's work in the background, in one pipelined call: the module forks, answers at once
with the job's result file, and the forked process does the work and leaves the module's answer
in that file. ``nbops.jupyter.notebook_job`` waits for it.

Why not ``async``: Ansible's async copies the module and a wrapper to the host and runs them there
(five SSH operations on a first converge, about a second), writes the module's arguments to disk
for the job's lifetime, and its status is polled at whole round trips. Here the arguments stay in
the job's memory, and the waiter sees the answer within a tenth of a second.

The job's files are in the role's root-only ``0700`` lock directory (the server's account can
neither plant nor read them): ``<name>.running``, which the job holds locked while it runs (the
waiter tells a job that died from one still at work), and ``<name>.json``, renamed into place
complete.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import secrets
import shutil
import signal
import sys

_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC


class Timeout(BaseException):
    """The job ran longer than it may. A BaseException: no ``except Exception`` on the way (in
    AnsibleModule.run_command, in a parser) may take it for an error of its own."""


def names(prefix: str) -> tuple[str, str]:
    """A new job's result and lock file names in the lock directory."""
    base = f"{prefix}-{secrets.token_hex(8)}"
    return base + ".json", base + ".running"


def _payload_dir() -> str | None:
    """The directory AnsiballZ unpacked this module into (its wrapper removes it when the module's
    process exits; the job keeps it until it no longer imports from it)."""
    archive = getattr(globals().get("__loader__"), "archive", "")
    parent = os.path.dirname(archive)
    if archive.endswith("_payload.zip") and os.path.basename(parent).startswith("ansible_") and "_payload_" in parent:
        return parent
    return None


def start(dir_fd: int, prefix: str, timeout: int, work, redact=str) -> str:
    """Run ``work()`` (which ends with the module's exit_json or fail_json) in a process of its
    own, its standard output going to the result file; return that file's name. The caller then
    answers with ``answer_and_leave``. ``redact`` cleans the message of an error ``work`` didn't
    answer itself (AnsibleModule censors only what it answers)."""
    result, running = names(prefix)
    lock = os.open(running, os.O_RDWR | os.O_CREAT | os.O_EXCL | _FLAGS, 0o600, dir_fd=dir_fd)
    fcntl.flock(lock, fcntl.LOCK_EX)
    pid = os.fork()
    if pid:
        os.close(lock)
        os.waitpid(pid, 0)
        return result
    # The first child: a session of its own, so the connection's end doesn't signal the job.
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        _run(dir_fd, result, lock, timeout, work, redact)
    finally:
        os._exit(0)


def disarm() -> None:
    """The work is done: no timeout may turn its answer into a failure while it is written."""
    signal.alarm(0)


def _run(dir_fd: int, result: str, lock: int, timeout: int, work, redact) -> None:  # pylint: disable=too-many-arguments
    part = result + ".part"
    out = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FLAGS, 0o600, dir_fd=dir_fd)
    null = os.open(os.devnull, os.O_RDWR)
    sys.stdout.flush()
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(null, 2)
    # The module prints its answer to sys.stdout, whatever the caller had made of it.
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")

    def expired(_signum, _frame):
        raise Timeout(f"did not finish within {timeout} s")

    signal.signal(signal.SIGALRM, expired)
    signal.alarm(timeout)
    try:
        work()
    except SystemExit:
        pass
    except BaseException as exc:  # pylint: disable=broad-exception-caught
        # Anything the module didn't answer itself: the answer is this, never a missing file.
        sys.stdout.write("\n" + json.dumps({"failed": True, "msg": redact(f"the background job failed: {exc}")}))
    finally:
        # Nothing may stop the answer's rename: a late alarm would leave the waiter without one.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        signal.alarm(0)
        sys.stdout.flush()
        os.fsync(1)
        os.rename(part, result, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        payload = _payload_dir()
        if payload:
            shutil.rmtree(payload, ignore_errors=True)
        os.close(lock)


def answer_and_leave(module, **result) -> None:
    """exit_json, then end the process at once: the AnsiballZ wrapper's cleanup would remove the
    code the job still imports from."""
    try:
        module.exit_json(**result)
    except SystemExit as exc:
        sys.stdout.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 0)


def read_result(text: str) -> dict:
    """The module's answer: its last line of output is the JSON that exit_json printed."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the job's result file is empty")
    answer = json.loads(lines[-1])
    if not isinstance(answer, dict):
        raise ValueError("the job's result is not a JSON object")
    return answer
