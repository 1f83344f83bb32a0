# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/upgrade.yml across the scenario's fleet: a bad version stops at the first batch and
the hosts not yet reached keep serving; a good one goes through every batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from converge import run_playbook  # noqa: E402  pylint: disable=wrong-import-position
HOSTS = [h for h in os.environ.get("NB_FLEET", "").split(",") if h]
VENV = os.environ.get("NB_VENV", "/opt/jupyter-notebook/venv")
pytestmark = pytest.mark.skipif(len(HOSTS) < 2, reason="NB_FLEET lists fewer than two hosts")


def version(host: str) -> str:
    return subprocess.run(
        ["docker", "exec", host, f"{VENV}/bin/python", "-c", "import importlib.metadata as m; print(m.version('notebook'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()


def serving(host: str) -> bool:
    probe = ("import ssl, urllib.request as u; ctx = ssl._create_unverified_context(); "
             "print(u.urlopen('https://127.0.0.1:8888/api', context=ctx, timeout=5).status)")
    out = subprocess.run(["docker", "exec", host, "python3", "-c", probe], capture_output=True, text=True, check=False)
    return out.stdout.strip() == "200"


def upgrade(extra: dict) -> tuple[int, str]:
    return run_playbook(REPO / "playbooks" / "upgrade.yml", extra, timeout=1200)


def test_bad_version_halts_the_rollout_and_the_rest_keep_serving():
    before = {host: version(host) for host in HOSTS}
    rc, output = upgrade({"notebook_upgrade_version": "7.999.0", "notebook_upgrade_batch": 1})
    assert rc != 0, output[-3000:]
    first, rest = HOSTS[0], HOSTS[1:]
    assert f"fatal: [{first}]" in output, output[-3000:]
    for host in rest:
        assert f"[{host}]" not in output, f"the rollout reached {host} after a failed batch"
        assert version(host) == before[host]
        assert serving(host), f"{host} stopped serving"
    # pip refused the unknown release before touching anything: the failed host serves too.
    assert version(first) == before[first] and serving(first)
    print(f"\n[figure] bad version: stopped after batch 1 of {len(HOSTS)}; {len(rest)} host(s) untouched and serving")


def test_good_version_rolls_through_every_batch():
    target = version(HOSTS[-1])
    rc, output = upgrade({"notebook_upgrade_version": target, "notebook_upgrade_batch": 1})
    assert rc == 0, output[-3000:]
    for host in HOSTS:
        assert version(host) == target and serving(host)


def logs_in(host: str, password: str) -> int:
    """Status of a login with ``password``, from inside the host (the fleet test has no published ports)."""
    probe = ("import json, ssl, sys, urllib.request as u, http.cookiejar as c; ctx = ssl._create_unverified_context();"
             "jar = c.CookieJar(); o = u.build_opener(u.HTTPSHandler(context=ctx), u.HTTPCookieProcessor(jar));"
             "o.open('https://127.0.0.1:8888/login', timeout=10); x = [k.value for k in jar if k.name == '_xsrf'][0];"
             "import urllib.parse as p; d = p.urlencode({'password': sys.stdin.read(), '_xsrf': x}).encode();"
             "r = u.Request('https://127.0.0.1:8888/login', data=d);"
             "\ntry:\n o.open(r, timeout=10); print(200)\nexcept Exception as e:\n print(getattr(e, 'code', 0))")
    out = subprocess.run(["docker", "exec", "-i", host, "python3", "-c", probe], input=password, capture_output=True,
                         text=True, check=False)
    return int(out.stdout.strip() or 0)


def test_a_failed_batch_mate_loses_no_restart():
    """One host of a batch fails after its batch-mates wrote a new password into their config:
    max_fail_percentage stops the batch and marks them failed before their handlers run (even
    with force_handlers), so they keep serving the old password. The next converge finds each of
    them running older files than it has on disk and restarts it: the new password takes effect."""
    import json

    first, rest = HOSTS[0], HOSTS[1:]
    current = json.loads(subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", os.environ["NB_INVENTORY"],
                                         "--host", first], capture_output=True, text=True, check=True).stdout)["notebook_password"]
    new = current + "-rotated-in-batch"
    # The first host's config directory turns read-only: its config write fails mid-batch.
    subprocess.run(["docker", "exec", first, "sh", "-c", "mount --bind /etc/jupyter-notebook /etc/jupyter-notebook && "
                    "mount -o remount,bind,ro /etc/jupyter-notebook"], check=True)
    try:
        rc, output = upgrade({"notebook_upgrade_version": version(first), "notebook_upgrade_batch": len(HOSTS),
                              "notebook_password": new})
        assert rc != 0 and f"fatal: [{first}]" in output, output[-3000:]
        lost = [host for host in rest if logs_in(host, new) not in (200, 302)]
    finally:
        subprocess.run(["docker", "exec", first, "umount", "/etc/jupyter-notebook"], check=False)
    try:
        rc, output = run_playbook(REPO / "playbooks" / "deploy.yml", {"notebook_password": new}, timeout=1200)
        assert rc == 0, output[-3000:]
        for host in HOSTS:
            assert logs_in(host, new) in (200, 302) and logs_in(host, current) == 401, host
        for host in lost:
            # Its config was already on disk: only the restart it was owed made the difference.
            assert "Restart the server that still runs what an earlier run replaced" in output, output[-3000:]
    finally:
        rc, output = run_playbook(REPO / "playbooks" / "deploy.yml", {"notebook_password": current}, timeout=1200)
        assert rc == 0, output[-3000:]
    print(f"\n[figure] failed batch-mate: {len(lost)} of {len(rest)} batch-mate(s) kept the old password after the "
          f"stopped batch; all served the new one after the next converge")
