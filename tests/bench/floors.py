# SPDX-License-Identifier: GPL-3.0-or-later
"""The floors under the bench's figures, each measured on its own on hosts the role converged,
over SSH with the recommended settings: what Ansible costs to start, what one skipped task costs
with the role's defaults in scope, what one remote call, the first one's connection and the role's
facts cost; the same per host of the 32-host fleet (its first call, and a task that reaches no
host, at 32 forks); and, without Ansible, what the install costs with and without bytecode and what
the server's start costs."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from hosts import OUT, REPO, cgroup, sh
from measure import ANSIBLE, cgroup_seconds, playbook

DEFAULTS = REPO / "roles" / "notebook" / "defaults" / "main.yml"
SKIPPED = 200
CALLS = 10
# Tasks per host in the fleet's floor: 32 hosts x 20 tasks, about as many host-tasks as a re-run has.
FLEET_TASKS = 20


def _play(tasks: list, vars_files: list | None = None) -> Path:
    play = {"name": "Floor", "hosts": "notebooks", "gather_facts": False, "become": True,
            "tasks": [{"name": "Nothing", "ansible.builtin.meta": "noop"}] + tasks}
    if vars_files:
        play["vars_files"] = vars_files
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, dir=OUT) as fh:
        json.dump([play], fh)
    return Path(fh.name)


def ansible_floors(inv: str, name: str) -> dict:
    """Per-run and per-task costs of Ansible itself against one converged host."""
    skipped = [{"name": f"Skipped {i}", "ansible.builtin.debug": {"msg": "{{ notebook_port }}"},
                "when": "notebook_state == 'not a state'"} for i in range(SKIPPED)]
    calls = [{"name": f"Call {i}", "ansible.builtin.command": "true", "changed_when": False} for i in range(CALLS)]
    facts = [{"name": "Facts", "nbops.jupyter.notebook_facts": None}]
    empty = playbook(inv, _play([]), [name], "ssh-recommended")
    many = playbook(inv, _play(skipped, [str(DEFAULTS)]), [name], "ssh-recommended")
    one = playbook(inv, _play(calls[:1]), [name], "ssh-recommended")
    remote = playbook(inv, _play(calls), [name], "ssh-recommended")
    # The facts after one call: the first call to a host also opens the SSH connection.
    gathered = playbook(inv, _play(calls[:1] + facts), [name], "ssh-recommended")
    began = time.monotonic()
    sh(str(ANSIBLE), "-i", inv, "--syntax-check", str(REPO / "playbooks" / "deploy.yml"))
    call = (remote.wall - one.wall) / (CALLS - 1)
    return {
        "startup_s": empty.wall, "startup_controller_cpu_s": empty.controller_cpu,
        "syntax_check_deploy_s": time.monotonic() - began,
        "skipped_task_s": (many.wall - empty.wall) / SKIPPED,
        "skipped_task_controller_cpu_s": (many.controller_cpu - empty.controller_cpu) / SKIPPED,
        # Calls after the first, on the open connection.
        "remote_call_s": call,
        "remote_call_controller_cpu_s": (remote.controller_cpu - one.controller_cpu) / (CALLS - 1),
        "remote_call_host_cpu_s": (remote.host_cpu - one.host_cpu) / (CALLS - 1),
        # What the first call to a host costs beyond any other: SSH's connection, sudo's first start.
        "connection_s": one.wall - empty.wall - call,
        "facts_s": gathered.wall - one.wall, "facts_host_cpu_s": gathered.host_cpu - one.host_cpu,
    }


def fleet_floors(inv: str, names: list[str]) -> dict:
    """What Ansible itself costs per host of a fleet re-run, on the same converged hosts and forks as the
    e32 figure: each host's first call (SSH's connection, sudo, a module), and each further task that
    reaches no host (skipped, with the role's defaults in scope) - per host, in wall and controller CPU."""
    count = len(names)
    skipped = [{"name": f"Skipped {i}", "ansible.builtin.debug": {"msg": "{{ notebook_port }}"},
                "when": "notebook_state == 'not a state'"} for i in range(FLEET_TASKS)]
    call = [{"name": "Call", "ansible.builtin.command": "true", "changed_when": False}]
    empty = playbook(inv, _play([]), names, "ssh-recommended", forks=count)
    one = playbook(inv, _play(call), names, "ssh-recommended", forks=count)
    many = playbook(inv, _play(skipped, [str(DEFAULTS)]), names, "ssh-recommended", forks=count)
    return {
        "fleet_startup_s": empty.wall, "fleet_startup_controller_cpu_s": empty.controller_cpu,
        "fleet_first_call_wall_per_host_s": (one.wall - empty.wall) / count,
        "fleet_first_call_controller_cpu_per_host_s": (one.controller_cpu - empty.controller_cpu) / count,
        "fleet_first_call_host_cpu_per_host_s": (one.host_cpu - empty.host_cpu) / count,
        "fleet_task_wall_per_host_s": (many.wall - empty.wall) / FLEET_TASKS / count,
        "fleet_task_controller_cpu_per_host_s": (many.controller_cpu - empty.controller_cpu) / FLEET_TASKS / count,
    }


def host_floors(name: str, venv: str = "/opt/jupyter-notebook/venv", service: str = "jupyter-notebook") -> dict:
    """On the converged host, without Ansible: the same install into a scratch venv with the
    role's uv, with and without bytecode (downloads included, no cache), and a restart of the
    server until it answers."""
    path = [cgroup(name)]
    result = {}
    for label, flags in (("install_no_bytecode", ""), ("install_with_bytecode", "--compile-bytecode")):
        script = (f"set -e; rm -rf /opt/floor; python3 -m venv --without-pip /opt/floor; "
                  f"UV_SYSTEM_CERTS=1 UV_NO_CACHE=1 {venv}/bin/uv pip install -q --python /opt/floor/bin/python {flags} notebook")
        cpu0, began = cgroup_seconds(path), time.monotonic()
        sh("docker", "exec", name, "bash", "-c", script)
        result[f"{label}_s"] = time.monotonic() - began
        result[f"{label}_cpu_s"] = cgroup_seconds(path) - cpu0
    sh("docker", "exec", name, "rm", "-rf", "/opt/floor")
    wait = ("import ssl, time, urllib.request as u\nc = ssl._create_unverified_context()\n"
            "for _ in range(600):\n    try:\n        u.urlopen('https://127.0.0.1:8888/api', context=c, timeout=2); break\n"
            "    except Exception:\n        time.sleep(0.05)\n")
    cpu0, began = cgroup_seconds(path), time.monotonic()
    sh("docker", "exec", name, "systemctl", "restart", service)
    sh("docker", "exec", name, "python3", "-c", wait)
    result["server_start_s"] = time.monotonic() - began
    result["server_start_cpu_s"] = cgroup_seconds(path) - cpu0
    return result
