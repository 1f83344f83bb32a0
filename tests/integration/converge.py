# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the scenario's converge playbook against one host, as the user would run it again."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "molecule" / "shared" / "converge.yml"


@dataclass
class Run:
    rc: int
    output: str
    changed: int
    failed: int


def command(playbook: Path, extra_vars: dict | None, vars_file: str, limit: str | None = None,
            args: tuple = ()) -> list[str]:
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", os.environ["NB_INVENTORY"], *args]
    if limit:
        argv += ["--limit", limit]
    argv.append(str(playbook))
    if extra_vars:
        # A vars file, not -e key=value: values (passwords) never appear in an argument list.
        argv += ["-e", f"@{vars_file}"]
    return argv


def run_playbook(playbook: Path, extra_vars: dict | None = None, limit: str | None = None,
                 timeout: float = 900, args: tuple = (), env: dict | None = None) -> tuple[int, str]:
    """Return the exit code and everything printed (ansible-core 2.19 reports failures on stderr)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(extra_vars or {}, fh)
    try:
        proc = subprocess.run(
            command(playbook, extra_vars, fh.name, limit, args), capture_output=True, text=True, timeout=timeout,
            check=False, env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})},
        )
    finally:
        os.unlink(fh.name)
    return proc.returncode, proc.stdout + proc.stderr


def converge(host: str, extra_vars: dict | None = None, timeout: float = 900, args: tuple = (),
             env: dict | None = None) -> Run:
    rc, output = run_playbook(PLAYBOOK, extra_vars, host, timeout, args, env)
    return parse(rc, output, host)


def parse(rc: int, output: str, host: str) -> Run:
    recap = re.search(rf"^{re.escape(host)}\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", output, re.M)
    changed, failed = (int(recap.group(1)), int(recap.group(2))) if recap else (-1, -1)
    return Run(rc, output, changed, failed)


def converge_each(host: str, cases: list[dict], timeout: float = 900, forks: int = 12) -> list[Run]:
    """Each case's variables applied to the host in one ansible-playbook run, each case as an
    inventory alias of the host (host vars): one controller start-up instead of one per case. Only
    for cases whose checks don't compare the hosts of a batch (CA and device settings do). Each
    Run's output is the lines that name its alias."""
    aliases = {f"{host}--case{index:03d}": {"ansible_host": host, "ansible_connection": "community.docker.docker", **case}
               for index, case in enumerate(cases)}
    with tempfile.TemporaryDirectory() as tmp:
        inventory = Path(tmp) / "cases.yml"
        inventory.write_text(json.dumps({"notebooks": {"hosts": aliases}}))
        argv = command(PLAYBOOK, None, "", ",".join(aliases), args=("-i", str(inventory), "--forks", str(forks)))
        # One stream: ansible-core 2.19 writes a failure's message to stderr just before the
        # "fatal: [host]" line on stdout; kept in order, the message goes with that host.
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                              check=False, env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    output = proc.stdout
    mine: dict[str, list[str]] = {alias: [] for alias in aliases}
    pending: list[str] = []
    for line in output.splitlines():
        named = [alias for alias in aliases if f"[{alias}]" in line]
        if line.startswith("[ERROR]"):
            pending = [line]
        elif named:
            for alias in named:
                mine[alias] += pending + [line]
            pending = []
        elif pending:
            pending.append(line)
    runs = []
    for alias in aliases:
        recap = parse(proc.returncode, output, alias)
        runs.append(Run(1 if recap.failed else 0, "\n".join(mine[alias]), recap.changed, recap.failed))
    return runs
