# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: the recipe by hand against the role, on the same image, in one run.

Prints every figure, the ratios b/a, c/b and d8/d1, the slowest tasks and the task count, and
writes them to .build/bench/results.json. Not part of `make test`: figures, not assertions."""

from __future__ import annotations

import json
import os
import re
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


def playbook(inv, path, forks=8):
    env = {**os.environ, "ANSIBLE_PIPELINING": "true", "ANSIBLE_FORKS": str(forks), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "8"}
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
    began = time.monotonic()
    subprocess.run(["docker", "exec", "-i", name, "bash", "-s"], input=script, text=True, check=True,
                   capture_output=True)
    elapsed = time.monotonic() - began
    destroy([name])
    return elapsed


def role(names, extra=None, second=False):
    inv = prepared(names, extra)
    try:
        first, changed1, output = playbook(inv, REPO / "molecule" / "shared" / "converge.yml")
        result = {"first": first, "first_changed": changed1, "output": output}
        if second:
            again, changed2, output2 = playbook(inv, REPO / "molecule" / "shared" / "converge.yml")
            result.update(second=again, second_changed=changed2, second_output=output2)
        return result
    finally:
        os.unlink(inv)
        destroy(names)


def slowest(output, count=8):
    recap = output.split("TASKS RECAP", 1)[-1]
    rows = re.findall(r"^(.+?) -+ (\d+\.\d+)s$", recap, re.M)
    return [(name.strip(), float(seconds)) for name, seconds in rows[:count]]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    installer = os.environ.get("BENCH_INSTALLER", "")
    figures = {"image": IMAGE, "cores": os.cpu_count()}
    print(f"bench on {IMAGE}, {os.cpu_count()} cores", flush=True)

    quick = os.environ.get("BENCH_QUICK") == "1"  # only b and c with uv, to try a change
    if not quick:
        figures["a_by_hand_s"] = by_hand()
        print(f"a  by hand (venv, pip install notebook, passwd(), openssl, config, start, HTTPS): {figures['a_by_hand_s']:.1f} s", flush=True)

    for kind in (("uv",) if quick else ("pip", "uv")):
        run = role([f"nbops-bench-{kind}"], {"notebook_installer": kind}, second=True)
        figures[f"b_role_first_{kind}_s"] = run["first"]
        figures[f"c_role_second_{kind}_s"] = run["second"]
        figures[f"c_role_second_{kind}_changed"] = run["second_changed"]
        figures[f"tasks_{kind}"] = len(re.findall(r"^TASK \[", run["output"], re.M))
        figures[f"slowest_{kind}"] = slowest(run["output"])
        print(f"b  role, first converge, installer {kind}: {run['first']:.1f} s ({figures[f'tasks_{kind}']} tasks)", flush=True)
        print(f"c  role, second converge, installer {kind}: {run['second']:.1f} s, changed={run['second_changed']}", flush=True)

    default = installer or "uv"
    b, c = figures[f"b_role_first_{default}_s"], figures[f"c_role_second_{default}_s"]
    if quick:
        print(f"b {b:.1f} s, c {c:.1f} s")
        for name, seconds in figures["slowest_uv"]:
            print(f"  {seconds:6.2f} s  {name}")
        return
    for n in (1, 2, 4, 8):
        names = [f"nbops-bench-fleet{n}-{i}" for i in range(n)]
        run = role(names, {"notebook_installer": default})
        figures[f"d{n}_s"] = run["first"]
        print(f"d{n} role, first converge on {n} fresh hosts at once (forks 8, {default}): {run['first']:.1f} s", flush=True)

    figures["ratio_b_over_a"] = b / figures["a_by_hand_s"]
    figures["ratio_c_over_b"] = c / b
    figures["ratio_d8_over_d1"] = figures["d8_s"] / figures["d1_s"]
    figures["installer_for_ratios"] = default
    (OUT / "results.json").write_text(json.dumps(figures, indent=2))

    print()
    print(f"b/a   = {figures['ratio_b_over_a']:.2f}   (target <= 0.8; installer {default})")
    print(f"c     = {c:.1f} s (target <= 5 s), c/b = {figures['ratio_c_over_b']:.2f}")
    print(f"d8/d1 = {figures['ratio_d8_over_d1']:.2f}   (target <= 3 on {os.cpu_count()} cores)")
    print(f"\nslowest tasks of the first converge ({default}):")
    for name, seconds in figures[f"slowest_{default}"]:
        print(f"  {seconds:6.2f} s  {name}")
    print(f"\nfigures: {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
