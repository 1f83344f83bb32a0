#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_job
short_description: Wait for a job a module of this collection started in the background, and answer as it would have
version_added: 0.4.0
author: nbops.jupyter contributors (@nbops)
description:
  - Waits until the job that M(nbops.jupyter.notebook_venv) started with C(background) has left its answer, then
    answers with it (C(changed), C(failed) and every value that module returns) and removes the job's files.
  - Looks for the answer ten times a second, in one call, where C(async_status) with C(until) makes a round trip
    for each look.
  - A job that ended without an answer (killed, out of memory) fails this task at once, instead of at O(timeout).
  - Reads only from a root-owned directory nobody else can write, without following links.
options:
  path:
    description: The job's result file, as the module that started it returned it (its C(job)).
    type: path
    required: true
  timeout:
    description:
      - Longest to wait, in seconds. The job goes on after a timeout here.
      - A minute more than the default C(job_timeout) of M(nbops.jupyter.notebook_venv), so the job's own
        timeout answers first.
    type: int
    default: 3660
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: none
    details: A module started in check mode runs in the foreground; there is no job to wait for.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
seealso:
  - module: nbops.jupyter.notebook_venv
"""

EXAMPLES = r"""
- name: Start the install
  nbops.jupyter.notebook_venv:
    path: /opt/jupyter-notebook/venv
    requirements: [notebook]
    background: true
  register: install_job

- name: Wait for the install
  nbops.jupyter.notebook_job:
    path: "{{ install_job.job }}"
  register: installed
"""

RETURN = r"""
changed:
  description: What the job's module answered.
  returned: always
  type: bool
"""

import errno
import fcntl
import os
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _job, _safepath

POLL_S = 0.1
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
# Set by the module that answered, or by AnsibleModule for it: this module sets its own.
_OWN = ("invocation", "failed", "msg", "warnings", "deprecations", "exception", "changed")


def _read(dir_fd: int, name: str) -> dict | None:
    try:
        fd = os.open(name, _FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise _safepath.UnsafePath(f"can't open the job's result {name}: {exc.strerror}") from exc
    with os.fdopen(fd, encoding="utf-8") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != 0:
            raise _safepath.UnsafePath(f"the job's result {name} is not a regular file of root's")
        return _job.read_result(fh.read())


def _ended(dir_fd: int, running: str) -> bool:
    """The job no longer holds its lock: it ended (the answer is renamed into place before)."""
    try:
        fd = os.open(running, _FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _remove(dir_fd: int, *names: str) -> None:
    for name in names:
        try:
            os.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            pass


def wait(dir_fd: int, name: str, timeout: int) -> dict:
    running = name[:-len(".json")] + ".running"
    deadline = time.monotonic() + timeout
    while True:
        answer = _read(dir_fd, name)
        if answer is None and _ended(dir_fd, running):
            answer = _read(dir_fd, name)
            if answer is None:
                _remove(dir_fd, running, name + ".part")
                raise _safepath.UnsafePath(f"the job of {name} ended without an answer (killed?); run again")
        if answer is not None:
            _remove(dir_fd, name, running)
            return answer
        if time.monotonic() > deadline:
            raise _safepath.UnsafePath(f"the job of {name} is still running after {timeout} s")
        time.sleep(POLL_S)


def _message(item) -> str:
    if isinstance(item, dict):
        return str(item.get("msg") or (item.get("event") or {}).get("msg") or item)
    return str(item)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "timeout": {"type": "int", "default": 3660},
        },
        supports_check_mode=False,
    )
    directory, name = os.path.split(module.params["path"])
    if not name.endswith(".json") or not name.startswith("job-"):
        module.fail_json(msg=f"path: {module.params['path']} is not a job's result file (job-*.json)")
    dir_fd = None
    try:
        dir_fd = _safepath.root_dir_fd(directory, _safepath.Walker(), create=False)
        answer = wait(dir_fd, name, module.params["timeout"])
    except (_safepath.UnsafePath, ValueError, OSError) as exc:
        module.fail_json(msg=str(exc))
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    for item in answer.get("warnings") or []:
        module.warn(_message(item))
    rest = {k: v for k, v in answer.items() if k not in _OWN}
    if answer.get("failed"):
        module.fail_json(msg=str(answer.get("msg", "the job failed")), changed=bool(answer.get("changed")), **rest)
    module.exit_json(changed=bool(answer.get("changed")), **rest)


if __name__ == "__main__":
    main()
