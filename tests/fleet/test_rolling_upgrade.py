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
