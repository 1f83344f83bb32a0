# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: the recipe by hand against the role, on the same image, in one run.

Hosts are fresh containers of the test image reached over SSH as an unprivileged account that
becomes root with sudo (tests/bench/hosts.py), with Ansible's defaults and with the README's
recommended settings side by side, and over the docker connection for comparison. Prints every
figure with its target and writes all samples to .build/bench/results.json. Not part of
`make test`: figures, not assertions. BENCH_QUICK=1: one round of the first and second converge
with the recommended settings and where their CPU went, to try a change. BENCH_ONLY=host: the
single-host figures (a, b, c, floors) alone, in results-host.json; BENCH_ONLY=e32: the 32-host fleet."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

from hosts import IMAGE, OUT, REPO, cgroup, destroy, inventory, start
from floors import ansible_floors, fleet_floors, host_floors
from measure import cgroup_seconds, playbook, prepare

DEPLOY = REPO / "playbooks" / "deploy.yml"  # what a user runs
LOCK = REPO / "playbooks" / "lock.yml"
CORES = os.cpu_count() or 1
TARGETS = {"b_over_a": 0.5, "c_ssh_recommended_s": 2.0, "cpu_over_hand": 0.5, "d8_over_floor": 1.2,
           "e32_wall_per_host_s": 0.5, "e32_controller_cpu_per_host_s": 0.5}


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def by_hand():
    """The blog post's commands pasted into a root shell on a fresh host: wall and the host's CPU."""
    name = "nbops-bench-hand"
    start([name], ssh=False)
    inv = inventory([name], "docker")
    try:
        prepare(inv, [name])
        path = [cgroup(name)]
        cpu0, began = cgroup_seconds(path), time.monotonic()
        subprocess.run(["docker", "exec", "-i", name, "bash", "-s"], input=(REPO / "tests" / "bench" / "by_hand.sh").read_text(),
                       text=True, check=True, capture_output=True)
        return time.monotonic() - began, cgroup_seconds(path) - cpu0
    finally:
        os.unlink(inv)
        destroy([name])


def converged_host(setting: str, name: str, seconds: list[str], floors: str = ""):
    """A fresh host's first converge with `setting`, its second (a whole run, which finds nothing to
    do and leaves the converged-host stamp), then re-runs of the converged host with each of `seconds`;
    with `floors`, the floors measured on it (tests/bench/floors.py): "ansible" those of Ansible,
    "all" the host's (install, server start) too."""
    start([name], ssh=setting != "docker")
    docker_inv = inventory([name], "docker")
    inv = inventory([name], "docker" if setting == "docker" else "ssh")
    try:
        prepare(docker_inv, [name])
        first = playbook(inv, DEPLOY, [name], setting)
        second = playbook(inv, DEPLOY, [name], setting)
        shutil.rmtree(OUT / "facts", ignore_errors=True)
        # With the fact cache the first re-run fills it; the figure is the run after.
        again = {s: playbook(inv, DEPLOY, [name], s) for s in seconds}
        if "ssh-factcache" in seconds:
            again["ssh-factcache"] = playbook(inv, DEPLOY, [name], "ssh-factcache")
        measured = {**ansible_floors(inv, name), **(host_floors(name) if floors == "all" else {})} if floors else {}
        return first, second, again, measured
    finally:
        os.unlink(inv)
        os.unlink(docker_inv)
        destroy([name])


def fleet(count: int, setting: str = "ssh-recommended", extra: dict | None = None, reruns: tuple = (), lock: bool = False,
          first_over_docker: bool = False, floors: bool = False, fqcn_reruns: tuple = ()):
    """`count` fresh hosts converged at once (forks = count), then re-run with each strategy of
    `reruns`. With `first_over_docker` the first converge is set-up (the docker connection costs
    the controller less), and only the re-runs are the figure. `fqcn_reruns`: `linear` re-runs with
    each of these settings, the inventory naming the connection `ansible.builtin.ssh`. With
    `floors`, Ansible's own costs per host on the same hosts after the re-runs (tests/bench/floors.py)."""
    names = [f"nbops-bench-f{count}-{i}" for i in range(count)]
    start(names)
    docker_inv = inventory(names, "docker", extra)
    inv = inventory(names, "ssh", extra)
    # In the same directory as `inv`: the private CA's default paths, in the inputs' digest, follow it.
    fqcn_inv = inventory(names, "ssh-fqcn", extra)
    result = {}
    try:
        prepare(docker_inv, names)
        if lock:
            result["lock"] = playbook(inv, LOCK, names, setting, forks=count)
        if first_over_docker:
            result["first"] = playbook(docker_inv, DEPLOY, names, "docker", forks=count)
            # The second converge finds nothing to do and leaves the stamp: the re-runs are a converged fleet's.
            result["second"] = playbook(docker_inv, DEPLOY, names, "docker", forks=count)
        else:
            result["first"] = playbook(inv, DEPLOY, names, setting, forks=count)
        for strategy in reruns:
            result[f"rerun_{strategy}"] = playbook(inv, DEPLOY, names, setting, forks=count,
                                                   extra_env={"ANSIBLE_STRATEGY": strategy})
        for each in fqcn_reruns:
            result[f"rerun_fqcn_{each}"] = playbook(fqcn_inv, DEPLOY, names, each, forks=count,
                                                    extra_env={"ANSIBLE_STRATEGY": "linear"})
        if floors:
            result["floors"] = fleet_floors(inv, names)
        return result
    finally:
        for path in (inv, fqcn_inv, docker_inv):
            os.unlink(path)
        destroy(names)


def task_count(run) -> int:
    """The tasks a run went through: a meta task (end_role) starts once per host in the callback's rows."""
    names = [r["task"] for r in run.tasks]
    return sum(1 for i, name in enumerate(names) if i == 0 or names[i - 1] != name)


def where_cpu_went(run, count=12):
    rows = sorted(run.tasks, key=lambda r: r["host_cpu"] + r["controller_cpu"], reverse=True)
    return [{"task": r["task"], "host_cpu": r["host_cpu"], "controller_cpu": r["controller_cpu"], "wall": r["wall"]}
            for r in rows[:count]]


def phases(run):
    """A first converge's wall in three parts, from its tasks in order: before the install starts
    in the background, from its start until the wait for it ends (what runs beside it: the
    account, certificate, unit, login throttling), and after (config, start, health gate). The
    middle part is the longer of the install and the tasks beside it; ``waited_s`` is how long the
    wait itself took (near 0: the tasks beside it are the longer)."""
    names = [r["task"] for r in run.tasks]
    start = next((i for i, name in enumerate(names) if "Install, or start the install" in name), None)
    end = next((i for i, name in enumerate(names) if "Wait for the install into" in name), None)
    if start is None or end is None:
        return None
    wall = [r["wall"] for r in run.tasks]
    beside = run.tasks[start:end + 1]

    def walls(*parts):
        return round(sum(r["wall"] for r in named(run, parts)), 2)

    # ansible-playbook's start and end (the run's wall beyond its tasks') count before.
    return {"before_install_s": round(run.wall - sum(wall[start:]), 2),
            "beside_install_s": round(sum(wall[start:end + 1]), 2), "waited_s": wall[end],
            "after_install_s": round(sum(wall[end + 1:]), 2),
            # What first_converge_floor() takes from this run: the calls that must come one after the other
            # before the install (the first call, the host reader, the install's start) and after
            # it (the config); the CPU beside the install of the host (the install and every call
            # there) and of the controller for the tasks that make a call.
            "calls_before_install_s": walls("Gather the facts the role needs", "Read the host's state",
                                            "Install, or start the install"),
            "calls_after_install_s": walls("Write the server config"),
            "beside_install_cpu_s": round(sum(r["host_cpu"] for r in beside)
                                          + sum(r["controller_cpu"] for r in beside if r.get("host_calls")), 2)}


def first_converge_floor(f, m):
    """The shortest first converge these steps allow, from the parts this run measured: ansible-playbook's
    start, the calls one after the other before the install, the install beside its calls (no shorter
    than the install alone, nor than the CPU there on the cores the host and controller share), the
    wait's call, the config's, the start's call and the server's start until it answers. The input
    checks and every task that makes no call are left out: the floor of any design with these steps."""
    rounds = [p for p in f.get("b_phases", []) if p and "beside_install_cpu_s" in p]
    if not rounds:
        return None
    before = median([p["calls_before_install_s"] for p in rounds])
    beside_cpu = median([p["beside_install_cpu_s"] for p in rounds])
    beside = max(m["install_with_bytecode_s"], beside_cpu / f["cores"])
    after = 2 * m["remote_call_s"] + median([p["calls_after_install_s"] for p in rounds]) + m["server_start_s"]
    return {"b_floor_before_s": m["startup_s"] + before, "b_floor_beside_s": beside, "b_floor_beside_cpu_s": beside_cpu,
            "b_floor_after_s": after, "b_floor_s": m["startup_s"] + before + beside + after}


# The steps no design of this role can leave out on a converged host: the input checked against
# meta/argument_specs.yml, one call that reads what is on the host, and the check of the password
# against the hash deployed there (argon2 is slow on purpose: a verifier cheaper to check would be
# cheaper to guess).
LEAST = ("Validating arguments against arg spec", "Gather the facts the role needs, and read the host",
         "Decide whether the host is as a converged run left it")


# Besides those, what a converged run of this role must still do: check the secrets (which count in
# no digest), dispatch notebook_instances, publish where the server is, end the role; and the deploy
# playbook's message with the URL.
MUST = LEAST + ("Check the password, the other secrets", "Deploy each server of notebook_instances",
                "Publish where the server is", "End here", "Show the URL and the certificate fingerprint")


def named(run, parts):
    """The run's task rows whose name holds one of ``parts``."""
    return [r for r in run.tasks if any(part in r["task"] for part in parts)]


def least_tasks(run, parts=LEAST):
    rows = named(run, parts)
    return {"wall_s": sum(r["wall"] for r in rows), "controller_cpu_s": sum(r["controller_cpu"] for r in rows),
            "host_cpu_s": sum(r["host_cpu"] for r in rows), "tasks": [r["task"] for r in rows]}


def e32(figures):
    """32 converged hosts re-run with `linear` and `free`: wall and controller CPU per host."""
    # The 32 servers of the set-up start at once on the machine's cores, where a real fleet's hosts
    # each have their own: with the role's 60 s the health gates failed (23:19 on 1 December, every
    # host "nothing listens on port 8888 yet" at 60 s, load average 170).
    runs = fleet(32, extra={"notebook_health_timeout": 600}, reruns=("linear", "free"), first_over_docker=True, floors=True,
                 fqcn_reruns=("ssh-recommended-no-preload", "ssh-recommended"))
    for strategy in ("linear", "free"):
        run = runs[f"rerun_{strategy}"]
        figures[f"e32_{strategy}_s"] = run.wall
        figures[f"e32_{strategy}_changed"] = run.changed
        figures[f"e32_{strategy}_wall_per_host_s"] = run.wall / 32
        figures[f"e32_{strategy}_controller_cpu_per_host_s"] = run.controller_cpu / 32
        figures[f"e32_{strategy}_host_cpu_per_host_s"] = run.host_cpu / 32
        figures[f"e32_{strategy}_machine_busy"] = run.machine_busy
        figures[f"e32_{strategy}_tasks"] = task_count(run)
        print(f"e32 re-run ({strategy}): {run.wall:.1f} s, changed={run.changed}, {run.wall / 32:.2f} s per host "
              f"(<= {TARGETS['e32_wall_per_host_s']}), {run.controller_cpu / 32:.2f} controller cpu-s per host "
              f"(<= {TARGETS['e32_controller_cpu_per_host_s']}), {run.host_cpu / 32:.2f} host cpu-s per host, "
              f"{task_count(run)} tasks, machine {run.machine_busy:.0%} busy", flush=True)
    # The inventory naming the connection by its full name: without and with the preload callback.
    for setting, key in (("ssh-recommended-no-preload", "e32_fqcn_no_preload"), ("ssh-recommended", "e32_fqcn")):
        run = runs[f"rerun_fqcn_{setting}"]
        figures.update({f"{key}_s": run.wall, f"{key}_changed": run.changed, f"{key}_wall_per_host_s": run.wall / 32,
                        f"{key}_controller_cpu_per_host_s": run.controller_cpu / 32})
        print(f"e32 re-run (linear), ansible_connection ansible.builtin.ssh, {setting}: {run.wall:.1f} s, changed={run.changed}, "
              f"{run.wall / 32:.2f} s and {run.controller_cpu / 32:.2f} controller cpu-s per host", flush=True)
    figures["e32_where_cpu_went"] = [
        {"task": r["task"], "controller_cpu_per_host": round(r["controller_cpu"] / 32, 4), "host_cpu_per_host": round(r["host_cpu"] / 32, 4),
         "wall": r["wall"]} for r in runs["rerun_linear"].tasks]
    figures["e32_least_tasks"] = least_tasks(runs["rerun_linear"])
    figures["e32_must_tasks"] = least_tasks(runs["rerun_linear"], MUST)
    figures["e32_floors"] = runs["floors"]
    e32_floors(figures)


def e32_floors(f):
    """What the e32 re-run costs per host at least, from Ansible's own costs measured on the same hosts:
    the first call (connection, sudo, a module) and every other task at a skipped task's cost; the
    steps no design can leave out (LEAST) as this run measured them; and the wall that CPU takes on
    this machine's cores, which the hosts share with the controller here."""
    m = f["e32_floors"]
    tasks = f["e32_linear_tasks"]
    ctl = m["fleet_first_call_controller_cpu_per_host_s"] + (tasks - 1) * m["fleet_task_controller_cpu_per_host_s"]
    host = f["e32_linear_host_cpu_per_host_s"]
    least = f["e32_least_tasks"]["controller_cpu_s"] / 32
    # With ansible-playbook's start, shared by the 32.
    must = (f["e32_must_tasks"]["controller_cpu_s"] + m["fleet_startup_controller_cpu_s"]) / 32
    m.update(e32_controller_floor_per_host_s=ctl, e32_wall_floor_per_host_s=(ctl + host) / CORES,
             e32_least_design_controller_cpu_per_host_s=least, e32_least_design_wall_per_host_s=(least + host) / CORES,
             e32_must_controller_cpu_per_host_s=must, e32_must_wall_per_host_s=(must + host) / CORES)
    print(f"e32 floors on the same 32 hosts: the first call {m['fleet_first_call_controller_cpu_per_host_s']:.3f} controller + "
          f"{m['fleet_first_call_host_cpu_per_host_s']:.3f} host cpu-s per host, a task that reaches no host "
          f"{m['fleet_task_controller_cpu_per_host_s'] * 1000:.0f} controller cpu-ms per host; "
          f"the re-run's {tasks} tasks at those costs {ctl:.2f} controller cpu-s per host "
          f"(measured {f['e32_linear_controller_cpu_per_host_s']:.2f}); with its {host:.2f} host cpu-s per host on "
          f"{CORES} cores, {(ctl + host) / CORES:.2f} s of wall per host (measured {f['e32_linear_wall_per_host_s']:.2f})", flush=True)
    print(f"e32 least design (the input's spec check, the first call, the decision with the password check, as this run "
          f"measured them): {least:.2f} controller cpu-s per host (<= {TARGETS['e32_controller_cpu_per_host_s']}), "
          f"{(least + host) / CORES:.2f} s of wall per host with the host's CPU (<= {TARGETS['e32_wall_per_host_s']})", flush=True)
    print(f"e32 with what a converged run must still do (the least design, the secrets' check, notebook_instances' "
          f"dispatch, publishing, the role's end, the playbook's message with the URL, ansible-playbook's start): {must:.2f} controller "
          f"cpu-s per host, {(must + host) / CORES:.2f} s of wall per host with the host's CPU "
          f"({len(f['e32_must_tasks']['tasks'])} task rows)", flush=True)


def results_path():
    """Where this run's figures go: BENCH_ONLY=host keeps a full run's results.json."""
    return OUT / ("results-host.json" if os.environ.get("BENCH_ONLY") == "host" else "results.json")


def main():  # pylint: disable=too-many-locals,too-many-statements
    OUT.mkdir(parents=True, exist_ok=True)
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    quick = os.environ.get("BENCH_QUICK") == "1"
    figures = {"image": IMAGE, "cores": CORES, "rounds": 1 if quick else rounds, "targets": TARGETS, "samples": {}}
    samples = figures["samples"]
    floor_samples = {}

    def record(key, value):
        samples.setdefault(key, []).append(round(value, 3))

    figures["load_before"] = os.getloadavg()[0]
    if os.environ.get("BENCH_ONLY") == "e32":  # the 32-host fleet alone (about 15 minutes)
        e32(figures)
        (OUT / "results-e32.json").write_text(json.dumps(figures, indent=2))
        return
    print(f"bench on {IMAGE}, {CORES} cores, {figures['rounds']} rounds, load average {figures['load_before']:.1f} "
          f"(figures are only worth comparing on a machine doing nothing else)", flush=True)
    for number in range(1, figures["rounds"] + 1):
        if not quick:
            wall, cpu = by_hand()
            record("a_by_hand_s", wall)
            record("a_by_hand_cpu_s", cpu)
            print(f"round {number}: a by hand: {wall:.1f} s, {cpu:.1f} cpu-s on the host", flush=True)
        plans = [("ssh-recommended", ["ssh-recommended", "ssh-defaults", "ssh-no-controlpersist", "ssh-factcache"])]
        if not quick:
            plans += [("ssh-defaults", []), ("docker", ["docker"])]
        for setting, seconds in plans:
            # Ansible's floors in every round (the machine's speed moves between rounds, and a floor
            # should come from the same speed as the figure it explains); the host's in the last.
            floors = ("all" if number == figures["rounds"] else "ansible") if (
                setting == "ssh-recommended" and (not quick or os.environ.get("BENCH_FLOORS") == "1")) else ""
            first, second, again, measured = converged_host(setting, f"nbops-bench-{setting}", seconds, floors)
            for key, value in measured.items():
                floor_samples.setdefault(key, []).append(value)
            if measured:
                figures["b_tasks"], figures["c_tasks"] = task_count(first), task_count(again["ssh-recommended"])
            record(f"b_{setting}_s", first.wall)
            record(f"b_{setting}_cpu_s", first.cpu)
            record(f"b_{setting}_host_cpu_s", first.host_cpu)
            record(f"b_{setting}_controller_cpu_s", first.controller_cpu)
            record(f"c2_{setting}_s", second.wall)
            figures[f"c2_{setting}_changed"] = max(second.changed, figures.get(f"c2_{setting}_changed", 0))
            line = (f"round {number}: b first converge, {setting}: {first.wall:.1f} s, "
                    f"{first.host_cpu:.1f} + {first.controller_cpu:.1f} cpu-s (host + controller); "
                    f"second (whole) {second.wall:.1f} s changed={second.changed}")
            for other, run in again.items():
                record(f"c_{other}_s", run.wall)
                record(f"c_{other}_controller_cpu_s", run.controller_cpu)
                figures[f"c_{other}_changed"] = max(run.changed, figures.get(f"c_{other}_changed", 0))
                line += f"; c {other}: {run.wall:.1f} s changed={run.changed}"
            print(line, flush=True)
            if setting == "ssh-recommended":
                figures["b_host_calls"] = sum(r.get("host_calls", 0) for r in first.tasks)
                figures["c_host_calls"] = sum(r.get("host_calls", 0) for r in again["ssh-recommended"].tasks)
                figures["b_where_cpu_went"] = where_cpu_went(first)
                figures.setdefault("b_phases", []).append(phases(first))
                figures["c_where_time_went"] = sorted(again["ssh-recommended"].tasks, key=lambda r: r["wall"], reverse=True)[:10]
                figures["c_least_tasks"] = least_tasks(again["ssh-recommended"])
    for key, values in list(samples.items()):
        figures[key] = median(values)
    if floor_samples:
        figures["floors"] = {key: median(values) for key, values in floor_samples.items()}
        figures["floor_samples"] = floor_samples
    # Written after each part, so a run that stops later keeps what it measured.
    results_path().write_text(json.dumps(figures, indent=2))

    # BENCH_ONLY=host: a, b, c and the floors alone, on one host at a time (about 15 minutes).
    if not quick and os.environ.get("BENCH_ONLY") != "host":
        # Fleets: 8 fresh hosts from the index, 8 from a lock and wheelhouse made on the controller
        # (each wheel fetched once), 32 converged hosts re-run.
        d8 = fleet(8)["first"]
        figures.update(d8_s=d8.wall, d8_cpu_per_host_s=d8.cpu / 8, d8_machine_busy=d8.machine_busy,
                       d8_index_bytes=d8.received, d8_floor_s=8 * (d8.cpu / 8) / CORES,
                       d8_floor_from_b_s=8 * figures["b_ssh-recommended_cpu_s"] / CORES)
        print(f"d8: {d8.wall:.1f} s, {d8.cpu / 8:.1f} cpu-s per host, {d8.received / 1e6:.0f} MB from the index", flush=True)
        wheels = OUT / "wheelhouse"
        shutil.rmtree(wheels, ignore_errors=True)
        shutil.rmtree(OUT / "locks", ignore_errors=True)
        offline = fleet(8, extra={"notebook_lock_dir": str(OUT / "locks"), "notebook_wheelhouse": str(wheels)}, lock=True)
        figures.update(d8_wheelhouse_s=offline["first"].wall, d8_wheelhouse_lock_s=offline["lock"].wall,
                       d8_wheelhouse_index_bytes=offline["lock"].received + offline["first"].received,
                       d8_wheelhouse_converge_index_bytes=offline["first"].received,
                       wheelhouse_bytes=sum(f.stat().st_size for f in wheels.rglob("*") if f.is_file()))
        print(f"d8 from a wheelhouse: lock {offline['lock'].wall:.1f} s, converge {offline['first'].wall:.1f} s, "
              f"{figures['d8_wheelhouse_index_bytes'] / 1e6:.0f} MB from the index", flush=True)
        results_path().write_text(json.dumps(figures, indent=2))
        e32(figures)

    results_path().write_text(json.dumps(figures, indent=2))
    report(figures, quick)


def report(f, quick):
    rec = "ssh-recommended"
    print(f"\nmedians of {f['rounds']} rounds ({f['image']}, {f['cores']} cores):")
    if not quick:
        print(f"a   by hand                              {f['a_by_hand_s']:6.1f} s   {f['a_by_hand_cpu_s']:5.1f} cpu-s")
    for setting in (rec, "ssh-defaults", "docker"):
        if f"b_{setting}_s" in f:
            print(f"b   first converge, {setting:22} {f[f'b_{setting}_s']:6.1f} s   {f[f'b_{setting}_cpu_s']:5.1f} cpu-s "
                  f"({f[f'b_{setting}_host_cpu_s']:.1f} host + {f[f'b_{setting}_controller_cpu_s']:.1f} controller)")
    for setting in (rec, "ssh-defaults", "docker"):
        if f"c2_{setting}_s" in f:
            print(f"c2  second converge (whole), {setting:13} {f[f'c2_{setting}_s']:6.1f} s   changed={f[f'c2_{setting}_changed']}")
    for setting in (rec, "ssh-factcache", "ssh-defaults", "ssh-no-controlpersist", "docker"):
        if f"c_{setting}_s" in f:
            print(f"c   converged re-run, {setting:20} {f[f'c_{setting}_s']:6.1f} s   changed={f[f'c_{setting}_changed']}")
    if quick:
        print("\nwhere the first converge's CPU went (host + controller, cpu-s):")
        for row in f["b_where_cpu_went"]:
            print(f"  {row['host_cpu']:5.2f} + {row['controller_cpu']:5.2f}  {row['wall']:5.2f} s  {row['task']}")
        print_phases(f)
        floors(f)
        return
    t = f["targets"]
    b_over_a = f[f"b_{rec}_s"] / f["a_by_hand_s"]
    cpu_over = f[f"b_{rec}_cpu_s"] / f["a_by_hand_cpu_s"]
    f.update(ratio_b_over_a=b_over_a, ratio_cpu_over_hand=cpu_over)
    print("\nfigure                                              measured   target")
    print(f"b/a, first converge over SSH / by hand            {b_over_a:8.2f}   <= {t['b_over_a']}")
    print(f"c, converged re-run over SSH, recommended          {f[f'c_{rec}_s']:6.1f} s   <= {t['c_ssh_recommended_s']} s"
          f"   (the second converge, a whole run: {f[f'c2_{rec}_s']:.1f} s)")
    print(f"CPU of a first converge / by hand's               {cpu_over:8.2f}   <= {t['cpu_over_hand']}")
    if "d8_s" in f:
        fleets(f, t)
    print("\nwhere the first converge's CPU went (host + controller, cpu-s):")
    for row in f["b_where_cpu_went"]:
        print(f"  {row['host_cpu']:5.2f} + {row['controller_cpu']:5.2f}  {row['wall']:5.2f} s  {row['task']}")
    print_phases(f)
    floors(f)
    results_path().write_text(json.dumps(f, indent=2))
    print(f"\nfigures: {results_path()}")


def print_phases(f):
    rounds = [p for p in f.get("b_phases", []) if p]
    if not rounds:
        return
    print("\nthe first converge's wall (recommended settings; ansible-playbook's start counted before), by round:")
    for number, p in enumerate(rounds, 1):
        print(f"  round {number}: {p['before_install_s']:.1f} s before the install starts, {p['beside_install_s']:.1f} s from its start "
              f"to the end of the wait for it ({p['waited_s']:.1f} s of it waiting), {p['after_install_s']:.1f} s after")


def fleets(f, t):
    d8_over = f["d8_s"] / f["d8_floor_s"]
    f.update(ratio_d8_over_floor=d8_over)
    print(f"d8 / its CPU floor ({f['d8_floor_s']:.1f} s = 8 x {f['d8_cpu_per_host_s']:.1f} cpu-s / {f['cores']})"
          f"{'':3}{d8_over:6.2f}   <= {t['d8_over_floor']}")
    for strategy in ("linear", "free"):
        print(f"e32 re-run ({strategy:6}), wall per host               {f[f'e32_{strategy}_wall_per_host_s']:6.2f} s   <= {t['e32_wall_per_host_s']} s")
        print(f"e32 re-run ({strategy:6}), controller CPU per host     {f[f'e32_{strategy}_controller_cpu_per_host_s']:6.2f} s   "
              f"<= {t['e32_controller_cpu_per_host_s']} s")
    if "e32_fqcn_controller_cpu_per_host_s" in f:
        print(f"e32 re-run (linear), inventory naming ansible.builtin.ssh: {f['e32_fqcn_no_preload_wall_per_host_s']:.2f} s and "
              f"{f['e32_fqcn_no_preload_controller_cpu_per_host_s']:.2f} controller cpu-s per host without "
              f"nbops.jupyter.connection_preload, {f['e32_fqcn_wall_per_host_s']:.2f} s and "
              f"{f['e32_fqcn_controller_cpu_per_host_s']:.2f} with it")
    print(f"d8 bytes from the index: {f['d8_index_bytes'] / 1e6:.0f} MB online, "
          f"{f['d8_wheelhouse_index_bytes'] / 1e6:.0f} MB with a lock and wheelhouse "
          f"({f['d8_wheelhouse_converge_index_bytes'] / 1e6:.1f} MB of it during the converge)")
    print(f"d8 {f['d8_s']:.1f} s online, {f['d8_wheelhouse_s']:.1f} s from the wheelhouse (lock.yml {f['d8_wheelhouse_lock_s']:.1f} s)")


def floors(f):
    """The measured floors (tests/bench/floors.py) and what they add up to for this role."""
    m = f.get("floors")
    if not m:
        return
    tasks = f["c_tasks"]
    # A converged host's run makes one call to the host, the run's first (the host reader, with the facts).
    model_c = m["startup_s"] + m["connection_s"] + m["remote_call_s"] + (tasks - 1) * m["skipped_task_s"]
    least_c = m["startup_s"] + m["connection_s"] + m["remote_call_s"]
    per_host = (tasks - 1) * m["skipped_task_controller_cpu_s"] + m["remote_call_controller_cpu_s"]
    f["floors"].update(c_model_s=model_c, c_least_s=least_c, rerun_controller_cpu_per_host_model_s=per_host)
    print(f"\nfloors, each measured alone on a converged host over SSH (recommended settings); medians of "
          f"{len(f['floor_samples']['startup_s'])} rounds, the install and server start in the last:")
    print(f"  ansible-playbook start, one play, no task          {m['startup_s']:5.2f} s  {m['startup_controller_cpu_s']:.2f} cpu-s")
    print(f"  one remote call (command, become)                  {m['remote_call_s']:5.2f} s  "
          f"{m['remote_call_controller_cpu_s']:.3f} controller + {m['remote_call_host_cpu_s']:.3f} host cpu-s")
    print(f"  the first call's connection (SSH, sudo), beyond a call {m['connection_s']:5.2f} s")
    print(f"  the facts the role gathers (notebook_facts)        {m['facts_s']:5.2f} s  {m['facts_host_cpu_s']:.2f} host cpu-s")
    print(f"  one skipped task, the role's defaults in scope     {m['skipped_task_s'] * 1000:5.0f} ms "
          f"{m['skipped_task_controller_cpu_s'] * 1000:.0f} controller cpu-ms")
    print(f"  install of notebook with uv, without / with bytecode {m['install_no_bytecode_cpu_s']:.1f} / "
          f"{m['install_with_bytecode_cpu_s']:.1f} host cpu-s")
    print(f"  server start until it answers                      {m['server_start_s']:5.2f} s  {m['server_start_cpu_s']:.2f} host cpu-s")
    print(f"  c as start + connection + one call + {tasks - 1} tasks at the skipped cost: {model_c:.1f} s "
          f"(measured {f['c_ssh-recommended_s']:.1f} s); "
          f"with nothing but start and one call: {least_c:.1f} s")
    print(f"  a re-run's controller CPU per host from {tasks} tasks: {per_host:.2f} cpu-s")
    least = f.get("c_least_tasks")
    if least:
        # The host reader's call is the run's first: its wall holds the connection.
        least_design = m["startup_s"] + least["wall_s"]
        # A fleet on this machine's cores: each host's CPU of those two steps, shared by the cores.
        least_fleet = (least["controller_cpu_s"] + least["host_cpu_s"]) / f["cores"]
        f["floors"].update(c_least_design_s=least_design, rerun_controller_cpu_per_host_least_design_s=least["controller_cpu_s"],
                           rerun_wall_per_host_least_design_s=least_fleet)
        print(f"  a converged run that only checks its input, reads the host once and checks the password (this run's "
              f"three steps, the first of them opening the connection, no other task): {least_design:.2f} s "
              f"(c <= {f['targets']['c_ssh_recommended_s']} s); per host of a fleet "
              f"{least['controller_cpu_s']:.2f} controller cpu-s (e32 <= {f['targets']['e32_controller_cpu_per_host_s']}) and "
              f"{least_fleet:.2f} s of wall on {f['cores']} cores (e32 <= {f['targets']['e32_wall_per_host_s']} s)")
        if "a_by_hand_s" in f:
            # A first converge cannot be shorter than its steps in a row: these (its first call
            # gathers the facts), the host reader's own call, the install alone and the server's
            # start (the password check, beside the install there, is counted too: about 0.2 s).
            b_floor = least_design + m["remote_call_s"] + m["install_with_bytecode_s"] + m["server_start_s"]
            f["floors"].update(b_least_design_s=b_floor, b_least_design_over_a=b_floor / f["a_by_hand_s"])
            print(f"  a first converge's steps in a row alone (those, the host reader's call, the install with bytecode alone "
                  f"{m['install_with_bytecode_s']:.1f} s, the server's start): {b_floor:.1f} s = "
                  f"{b_floor / f['a_by_hand_s']:.2f} of by hand's {f['a_by_hand_s']:.1f} s (b/a <= {f['targets']['b_over_a']})")
    b_least = first_converge_floor(f, m)
    if b_least and "a_by_hand_s" in f:
        b_least["b_floor_over_a"] = b_least["b_floor_s"] / f["a_by_hand_s"]
        # The role's other tasks (checks, decisions, steps of modes not in use), each at the least a
        # task costs: what this role's task count adds to the floor of its steps.
        others = f["b_tasks"] - f["b_host_calls"]
        b_least["b_floor_with_tasks_s"] = b_least["b_floor_s"] + others * m["skipped_task_s"]
        b_least["b_floor_with_tasks_over_a"] = b_least["b_floor_with_tasks_s"] / f["a_by_hand_s"]
        f["floors"].update(b_least)
        print(f"  a first converge's floor with these steps, from this run's parts: {b_least['b_floor_s']:.1f} s = "
              f"{b_least['b_floor_over_a']:.2f} of by hand's (b/a <= {f['targets']['b_over_a']}): start and the calls "
              f"before the install {b_least['b_floor_before_s']:.1f} s, beside it {b_least['b_floor_beside_s']:.1f} s "
              f"(the install alone {m['install_with_bytecode_s']:.1f} s; the host's and the calls' CPU there "
              f"{b_least['b_floor_beside_cpu_s']:.1f} cpu-s on {f['cores']} cores), after it {b_least['b_floor_after_s']:.1f} s")
        print(f"  the same with the role's {others} other tasks at the least a task costs: {b_least['b_floor_with_tasks_s']:.1f} s = "
              f"{b_least['b_floor_with_tasks_over_a']:.2f} (measured {f['b_ssh-recommended_s']:.1f} s = "
              f"{f['b_ssh-recommended_s'] / f['a_by_hand_s']:.2f})")
    calls = f["b_host_calls"]
    cpu_floor = (calls * (m["remote_call_controller_cpu_s"] + m["remote_call_host_cpu_s"]) + m["install_with_bytecode_cpu_s"]
                 + m["server_start_cpu_s"] + m["startup_controller_cpu_s"])
    f["floors"].update(b_calls_s=calls * m["remote_call_s"], b_cpu_floor_s=cpu_floor)
    print(f"  a first converge makes {calls} calls to the host ({f['c_host_calls']} on a converged one): "
          f"{calls * m['remote_call_s']:.1f} s of round trips alone, {calls * m['remote_call_controller_cpu_s']:.1f} controller "
          f"+ {calls * m['remote_call_host_cpu_s']:.1f} host cpu-s; with the install ({m['install_with_bytecode_cpu_s']:.1f}) "
          f"and the start ({m['server_start_cpu_s']:.1f}) the CPU floor of this design is "
          f"{cpu_floor:.1f} cpu-s")


if __name__ == "__main__":
    main()
