# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a converge's CPU goes, task by task (used by `make bench`, never shipped).

At each task start it reads the CPU the hosts' containers have used (their cgroups' cpu.stat,
given as a JSON list of paths in BENCH_CPU_CGROUPS) and the CPU of ansible-playbook and its
reaped workers, and charges the difference to the task that just ended. A task that starts a
background job (the install) is not charged for it: the job's CPU lands on the tasks that run
while it does, up to the one that waits for it. Written as JSON to BENCH_CPU_OUT."""

from __future__ import annotations

import json
import multiprocessing
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: cpu_tasks
type: aggregate
short_description: CPU of the hosts and the controller per task, for the bench
description: Charges host (cgroup) and controller CPU to each task; writes JSON to BENCH_CPU_OUT.
requirements: [cgroup v2 or v1 files of the hosts' containers readable on the controller]
"""


def _cgroup_seconds(path: str) -> float:
    with open(path, encoding="ascii") as fh:
        text = fh.read()
    if path.endswith("cpu.stat"):
        return int(text.split()[1]) / 1e6  # usage_usec
    return int(text) / 1e9  # cpuacct.usage, nanoseconds


def _controller_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cpu_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._paths = json.loads(os.environ.get("BENCH_CPU_CGROUPS", "[]"))
        self._out = os.environ.get("BENCH_CPU_OUT")
        self._rows: list[dict] = []
        self._current = None
        self._calls = 0
        self._mark = self._snapshot()

    def _snapshot(self):
        # Reap the workers that have ended: multiprocessing reaps one only when the next starts,
        # which would charge a task's worker (and its ssh) to the task after it. A worker still
        # exiting (the facts' often is) is charged to the next task all the same.
        multiprocessing.active_children()
        return (sum(_cgroup_seconds(p) for p in self._paths), _controller_seconds(), time.monotonic())

    def _close(self):
        now = self._snapshot()
        if self._current is not None:
            self._rows.append({"task": self._current, "host_cpu": round(now[0] - self._mark[0], 3),
                               "controller_cpu": round(now[1] - self._mark[1], 3), "wall": round(now[2] - self._mark[2], 3),
                               "host_calls": self._calls})
        self._calls = 0
        self._mark = now

    # Actions that run on the controller only: they never reach the host.
    _LOCAL = {"set_fact", "assert", "debug", "fail", "meta", "include_tasks", "import_tasks", "include_role",
              "validate_argument_spec", "include_vars", "add_host", "group_by", "set_stats"}

    def _remote(self, result) -> bool:
        task = result._task  # pylint: disable=protected-access
        action = task.action.rsplit(".", 1)[-1]
        return action not in self._LOCAL and task.delegate_to in (None, "")

    def v2_runner_on_ok(self, result):
        self._calls += self._remote(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._calls += self._remote(result)

    def v2_runner_retry(self, result):
        self._calls += self._remote(result)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = task.get_name()

    def v2_playbook_on_handler_task_start(self, task):
        self._close()
        self._current = "handler: " + task.get_name()

    def v2_playbook_on_stats(self, stats):
        self._close()
        self._current = None
        if self._out:
            with open(self._out, "w", encoding="utf-8") as fh:
                json.dump(self._rows, fh, indent=1)
