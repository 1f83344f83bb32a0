# SPDX-License-Identifier: GPL-3.0-or-later
"""One timed ansible-playbook run with what it cost: wall time, CPU on the hosts (their
cgroups) and on the controller (ansible-playbook and everything it waited for), the machine's
busy share, and the bytes the machine received from outside (the index: SSH to the containers
and docker exec never cross the outside interface)."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from hosts import OUT, REPO, cgroup

ANSIBLE = Path(sys.executable).parent / "ansible-playbook"
CALLBACKS = Path(__file__).resolve().parent / "callbacks"

# Connection settings, side by side. Ansible's defaults: no pipelining, and ssh_args
# "-C -o ControlMaster=auto -o ControlPersist=60s". What many ansible.cfg files end up with after
# setting ssh_args for something else: no ControlPersist. What the README recommends: pipelining
# on, ControlPersist kept (sudo on Debian has no requiretty, so pipelining works with become), and
# the collection's callback that loads the hosts' connection plugin before Ansible forks its
# workers (it matters where an inventory names the plugin by its full name, `ssh-fqcn` in hosts.py).
# A setting's ANSIBLE_CALLBACKS_ENABLED is added to the bench's own profiling callbacks.
_RECOMMENDED = {"ANSIBLE_PIPELINING": "true", "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=60s",
                "ANSIBLE_CALLBACKS_ENABLED": "nbops.jupyter.connection_preload"}
SETTINGS = {
    "docker": {"ANSIBLE_PIPELINING": "true"},
    "ssh-defaults": {},
    "ssh-no-controlpersist": {"ANSIBLE_SSH_ARGS": "-C"},
    "ssh-recommended": _RECOMMENDED,
    "ssh-recommended-no-preload": {k: v for k, v in _RECOMMENDED.items() if k != "ANSIBLE_CALLBACKS_ENABLED"},
    # The same with a fact cache: a re-run takes the facts of the last run instead of asking the host.
    "ssh-factcache": {**_RECOMMENDED, "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
                      "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(OUT / "facts"), "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "86400"},
}


def _outside_interface() -> str:
    with open("/proc/net/route", encoding="ascii") as fh:
        for line in fh.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":
                return fields[0]
    return "eth0"


def received_bytes() -> int:
    name = _outside_interface()
    with open("/proc/net/dev", encoding="ascii") as fh:
        for line in fh:
            if line.strip().startswith(name + ":"):
                return int(line.split(":", 1)[1].split()[0])
    return 0


def machine_ticks():
    """(busy, total) CPU ticks of the whole machine."""
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(t) for t in fh.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def cgroup_seconds(paths):
    total = 0.0
    for path in paths:
        text = Path(path).read_text(encoding="ascii")
        total += int(text.split()[1]) / 1e6 if path.endswith("cpu.stat") else int(text) / 1e9
    return total


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    wall: float
    changed: int
    host_cpu: float
    controller_cpu: float
    machine_busy: float
    machine_cpu: float
    received: int
    output: str
    tasks: list = field(default_factory=list)

    @property
    def cpu(self) -> float:
        return self.host_cpu + self.controller_cpu


def playbook(inv: str, path: Path, names: list[str], setting: str = "docker", forks: int = 8,
             extra_env: dict | None = None, check: bool = True) -> Run:
    paths = [cgroup(n) for n in names]  # one docker inspect per host
    control = tempfile.mkdtemp(prefix="cp-", dir=OUT)  # a cold start: no SSH master of an earlier run
    profile = Path(control) / "tasks.json"
    # Only SETTINGS decide the connection: nothing of the caller's environment.
    caller_only = ("ANSIBLE_PIPELINING", "ANSIBLE_SSH_ARGS", "ANSIBLE_CONFIG", "ANSIBLE_TRANSPORT", "NBOPS_CONNECTION_PRELOAD")
    base = {k: v for k, v in os.environ.items() if k not in caller_only}
    settings = {**SETTINGS[setting], **(extra_env or {})}
    callbacks = ",".join(filter(None, ["ansible.posix.profile_tasks,cpu_tasks", settings.pop("ANSIBLE_CALLBACKS_ENABLED", "")]))
    env = {**base, "ANSIBLE_FORKS": str(forks), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "false",
           "ANSIBLE_SSH_CONTROL_PATH_DIR": control, "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
           "ANSIBLE_CALLBACKS_ENABLED": callbacks, "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "12",
           "BENCH_CPU_CGROUPS": json.dumps(paths), "BENCH_CPU_OUT": str(profile), **settings}
    host0, ctl0, ticks0, rx0, began = cgroup_seconds(paths), _children_cpu(), machine_ticks(), received_bytes(), time.monotonic()
    proc = subprocess.run([str(ANSIBLE), "-i", inv, str(path)], capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - began
    host1, ctl1, ticks1, rx1 = cgroup_seconds(paths), _children_cpu(), machine_ticks(), received_bytes()
    subprocess.run(["pkill", "-f", control], check=False)  # this run's SSH masters
    if check and proc.returncode != 0:
        # The whole output too: a fleet's recap alone fills the tail.
        failed = OUT / f"failed-{path.stem}-{int(time.time())}.log"
        failed.write_text(proc.stdout + proc.stderr)
        print(proc.stdout[-6000:], proc.stderr[-3000:], f"\nwhole output: {failed}")
        raise SystemExit(f"{path.name} failed ({setting})")
    busy = (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])
    tasks = json.loads(profile.read_text()) if profile.exists() else []
    shutil.rmtree(control, ignore_errors=True)
    return Run(wall=wall, changed=sum(int(n) for n in re.findall(r"changed=(\d+)", proc.stdout)),
               host_cpu=host1 - host0, controller_cpu=ctl1 - ctl0, machine_busy=busy,
               machine_cpu=busy * wall * (os.cpu_count() or 1), received=rx1 - rx0, output=proc.stdout,
               tasks=tasks)


def prepare(inv_docker: str, names: list[str]) -> None:
    playbook(inv_docker, REPO / "molecule" / "shared" / "prepare.yml", names, "docker", forks=32)
