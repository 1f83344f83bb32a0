# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: the recipe by hand against the role, on the same image, in one run.

Prints every figure, the ratios b/a, c/b and d8/d1, the slowest tasks and the task count, and
writes them to .build/bench/results.json. Not part of `make test`: figures, not assertions."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("BENCH_IMAGE", "nbops-testbed:debian12")
ANSIBLE = Path(sys.executable).parent / "ansible-playbook"
RUN_CONTAINER = REPO / "tests" / "testbed" / "run-container.sh"
OUT = REPO / ".build" / "bench"
# What a user runs: the shipped playbook.
DEPLOY = REPO / "playbooks" / "deploy.yml"


def sh(*argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def start(names):
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        sh(str(RUN_CONTAINER), name, IMAGE)


def destroy(names):
    if names:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)


def inventory(names, extra=None):
    hosts = {n: {"ansible_connection": "community.docker.docker"} for n in names}
    data = {"notebooks": {"hosts": hosts, "vars": {"notebook_password": "bench-password", **(extra or {})}}}
    fh = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, dir=OUT)
    json.dump(data, fh)
    fh.close()
    return fh.name


def container_cpu(names):
    """CPU seconds the containers have used so far (cgroup v1 or v2), or None if unreadable."""
    total = 0.0
    for name in names:
        cid = sh("docker", "inspect", "-f", "{{.Id}}", name).stdout.strip()
        v1 = Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage")
        v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat")
        if v1.exists():
            total += int(v1.read_text()) / 1e9
        elif v2.exists():
            total += int(v2.read_text().split()[1]) / 1e6
        else:
            return None
    return total


def machine_ticks():
    """(busy, total) CPU ticks of the whole machine: hosts, controller, dockerd and kernel."""
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(t) for t in fh.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def playbook(inv, path, forks=8):
    env = {**os.environ, "ANSIBLE_PIPELINING": "true", "ANSIBLE_FORKS": str(forks), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
           "PROFILE_TASKS_TASK_OUTPUT_LIMIT": os.environ.get("PROFILE_TASKS_TASK_OUTPUT_LIMIT", "8")}
    start_time = time.monotonic()
    proc = subprocess.run([str(ANSIBLE), "-i", inv, str(path)], capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start_time
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:])
        raise SystemExit(f"{path.name} failed")
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", proc.stdout))
    return elapsed, changed, proc.stdout


def prepared(names, extra=None):
    start(names)
    inv = inventory(names, extra)
    playbook(inv, REPO / "molecule" / "shared" / "prepare.yml")
    return inv


def by_hand():
    name = "nbops-bench-hand"
    inv = prepared([name])
    os.unlink(inv)
    script = (REPO / "tests" / "bench" / "by_hand.sh").read_text()
    cpu0, began = container_cpu([name]), time.monotonic()
    subprocess.run(["docker", "exec", "-i", name, "bash", "-s"], input=script, text=True, check=True,
                   capture_output=True)
    elapsed, cpu1 = time.monotonic() - began, container_cpu([name])
    destroy([name])
    return elapsed, (None if cpu0 is None else cpu1 - cpu0)


def role(names, extra=None, second=False):
    inv = prepared(names, extra)
    try:
        # CPU of the first converge: on the hosts, and on the controller (ansible, docker CLI).
        host0, controller0, ticks0 = container_cpu(names), children_cpu(), machine_ticks()
        first, changed1, output = playbook(inv, DEPLOY)
        host1, controller1, ticks1 = container_cpu(names), children_cpu(), machine_ticks()
        result = {"first": first, "first_changed": changed1, "output": output,
                  "cpu_per_host": None if host0 is None else (host1 - host0 + controller1 - controller0) / len(names),
                  "machine_busy": (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])}
        if second:
            again, changed2, output2 = playbook(inv, DEPLOY)
            result.update(second=again, second_changed=changed2, second_output=output2)
        return result
    finally:
        os.unlink(inv)
        destroy(names)


def slowest(output, count=8):
    recap = output.split("TASKS RECAP", 1)[-1]
    rows = re.findall(r"^(.+?) -+ (\d+\.\d+)s$", recap, re.M)
    return [(name.strip(), float(seconds)) for name, seconds in rows[:count]]


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    default = os.environ.get("BENCH_INSTALLER", "uv")
    # PyPI answers the same download in 3 s or 9 s from one minute to the next: every figure that
    # downloads is taken this many times, a and b interleaved, and the median reported.
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    quick = os.environ.get("BENCH_QUICK") == "1"  # one round of b and c, to try a change
    if quick:
        rounds = 1
    figures = {"image": IMAGE, "cores": os.cpu_count(), "rounds": rounds, "samples": {}}
    samples = figures["samples"]
    print(f"bench on {IMAGE}, {os.cpu_count()} cores, {rounds} rounds", flush=True)

    def record(key, value):
        samples.setdefault(key, []).append(round(value, 2))

    kinds = (default,) if quick else ("uv", "pip")
    for number in range(1, rounds + 1):
        if not quick:
            elapsed, cpu = by_hand()
            record("a_by_hand_s", elapsed)
            if cpu is not None:
                record("cpu_by_hand_s", cpu)
            print(f"round {number}: a by hand (venv, pip install notebook, passwd(), openssl, config, start, HTTPS): "
                  f"{samples['a_by_hand_s'][-1]:.1f} s", flush=True)
        for kind in kinds:
            run = role([f"nbops-bench-{kind}"], {"notebook_installer": kind}, second=True)
            record(f"b_role_first_{kind}_s", run["first"])
            record(f"c_role_second_{kind}_s", run["second"])
            record(f"machine_busy_first_{kind}", run["machine_busy"])
            if run["cpu_per_host"] is not None:
                record(f"cpu_per_host_{kind}_s", run["cpu_per_host"])
            figures[f"c_role_second_{kind}_changed"] = max(run["second_changed"], figures.get(f"c_role_second_{kind}_changed", 0))
            figures[f"tasks_{kind}"] = len(re.findall(r"^TASK \[", run["output"], re.M))
            figures[f"slowest_{kind}"] = slowest(run["output"])
            print(f"round {number}: b role, first converge, installer {kind}: {run['first']:.1f} s "
                  f"({figures[f'tasks_{kind}']} tasks); c second converge: {run['second']:.1f} s, "
                  f"changed={run['second_changed']}", flush=True)
    for key, values in list(samples.items()):
        figures[key] = median(values)

    b, c = figures[f"b_role_first_{default}_s"], figures[f"c_role_second_{default}_s"]
    if quick:
        print(f"b {b:.1f} s, c {c:.1f} s")
        for name, seconds in figures[f"slowest_{default}"]:
            print(f"  {seconds:6.2f} s  {name}")
        return
    # d1 is the b run itself (one fresh host, same playbook, forks 8): its median serves.
    figures["d1_s"] = b
    for n in (2, 4, 8):
        names = [f"nbops-bench-fleet{n}-{i}" for i in range(n)]
        run = role(names, {"notebook_installer": default})
        figures[f"d{n}_s"] = run["first"]
        figures[f"d{n}_machine_busy"] = run["machine_busy"]
        busy = f"; the machine's {os.cpu_count()} cores were {run['machine_busy']:.0%} busy"
        if run["cpu_per_host"] is not None:
            busy += f" ({run['cpu_per_host']:.1f} cpu-s per host in containers and ansible)"
        print(f"d{n} role, first converge on {n} fresh hosts at once (forks 8, {default}): {run['first']:.1f} s{busy}", flush=True)

    figures["ratio_b_over_a"] = b / figures["a_by_hand_s"]
    figures["ratio_c_over_b"] = c / b
    figures["ratio_d8_over_d1"] = figures["d8_s"] / figures["d1_s"]
    # d1 keeps the cores busy for busy x cores x d1 CPU-seconds; eight such hosts on the same
    # cores need at least eight times that CPU, so d8/d1 can't fall below 8 x busy.
    figures["ratio_d8_over_d1_floor"] = 8 * figures[f"machine_busy_first_{default}"]
    cpu = figures.get(f"cpu_per_host_{default}_s")
    figures["installer_for_ratios"] = default
    (OUT / "results.json").write_text(json.dumps(figures, indent=2))

    print(f"\nmedians of {rounds} rounds:")
    print(f"a     = {figures['a_by_hand_s']:.1f} s by hand")
    for kind in kinds:
        print(f"b     = {figures[f'b_role_first_{kind}_s']:.1f} s first converge with {kind}, "
              f"c = {figures[f'c_role_second_{kind}_s']:.1f} s second converge")
    print(f"d     = {figures['d1_s']:.1f} / {figures['d2_s']:.1f} / {figures['d4_s']:.1f} / {figures['d8_s']:.1f} s on 1/2/4/8 hosts")
    print(f"b/a   = {figures['ratio_b_over_a']:.2f}   (target <= 0.8; installer {default})")
    print(f"c     = {c:.1f} s (target <= 5 s), c/b = {figures['ratio_c_over_b']:.2f}")
    print(f"d8/d1 = {figures['ratio_d8_over_d1']:.2f}   (target <= 3 on {os.cpu_count()} cores; "
          f"floor on these cores 8 x busy(d1) = {figures['ratio_d8_over_d1_floor']:.2f})")
    if "cpu_by_hand_s" in figures:
        print(f"cpu   = {figures['cpu_by_hand_s']:.1f} s by hand (the host only)")
    if cpu:
        print(f"cpu   = {cpu:.1f} s per host for a first converge with {default} (host + controller)")
    print(f"busy  = the {os.cpu_count()} cores were {figures[f'machine_busy_first_{default}']:.0%} busy during d1, "
          f"{figures['d8_machine_busy']:.0%} during d8 "
          f"(/proc/stat: hosts, controller, dockerd, kernel)")
    print(f"\nslowest tasks of the last first converge ({default}, {figures[f'tasks_{default}']} tasks):")
    for name, seconds in figures[f"slowest_{default}"]:
        print(f"  {seconds:6.2f} s  {name}")
    print(f"\nfigures: {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
