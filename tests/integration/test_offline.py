# SPDX-License-Identifier: GPL-3.0-or-later
"""The offline scenario: a host with no network, converged from a wheelhouse (NB_LOCK_DIR,
NB_WHEELHOUSE on the controller). Its venvs hold exactly their locks, its wheel cache is root's
alone, and a lock whose hash doesn't match a wheel fails the converge before anything changes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from converge import converge

pytestmark = pytest.mark.skipif(not os.environ.get("NB_LOCK_DIR"), reason="the offline scenario's verify sets NB_LOCK_DIR")

CACHE = "/var/cache/nbops-jupyter/wheels"
VENVS = {"server": "/opt/jupyter-notebook/venv", "kernel-py-locked": "/opt/jupyter-notebook/kernels/py-locked"}


def _lock_module():
    for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        if path and path not in sys.path:
            sys.path.insert(0, path)
    from ansible_collections.nbops.jupyter.plugins.module_utils import _lock  # pylint: disable=import-outside-toplevel
    return _lock


def sh(host: str, *argv: str, user: str = "root") -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", "-u", user, host, *argv], capture_output=True, text=True, check=False)


def test_the_host_has_no_network(host):
    mode = subprocess.run(["docker", "inspect", "-f", "{{.HostConfig.NetworkMode}}", host], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert mode == "none"
    # Loopback only: no interface, no route, nothing an installer could reach.
    interfaces = sh(host, "ls", "/sys/class/net").stdout.split()
    assert interfaces == ["lo"], interfaces


def test_the_wheel_cache_is_roots_alone(host):
    listing = sh(host, "find", CACHE, "-maxdepth", "1", "-printf", "%u %m %y %f\n")
    assert listing.returncode == 0, listing.stderr
    rows = [line.split() for line in listing.stdout.splitlines()]
    assert any(row[3].startswith("uv-") for row in rows), "the uv wheel is not in the host's cache"
    for user, mode, _kind, name in rows:
        assert user == "root" and int(mode, 8) & 0o022 == 0, f"{name}: {user} {mode}"
    assert sh(host, "touch", f"{CACHE}/planted.whl", user="jupyter").returncode != 0


def test_each_venv_holds_exactly_its_lock(host):
    _lock = _lock_module()
    python = sh(host, "python3", "-c", "import platform; print(platform.python_version())").stdout.strip()
    env = _lock.environment(python, "x86_64")
    for key, venv in VENVS.items():
        path = os.path.join(os.environ["NB_LOCK_DIR"], key + ".txt")
        with open(path, encoding="utf-8") as fh:
            pins = {e["name"]: e["version"] for e in _lock.applying(_lock.parse(fh.read(), path), env)}
        listed = sh(host, f"{venv}/bin/python", "-c", "import importlib.metadata as m, json, re; print(json.dumps("
                    "{re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version for d in m.distributions()}))")
        assert listed.returncode == 0, listed.stderr
        installed = json.loads(listed.stdout)
        wrong = {name: (version, installed.get(name)) for name, version in pins.items() if installed.get(name) != version}
        assert not wrong, f"{venv} differs from {path}: {wrong}"


def test_a_wrong_hash_fails_before_anything_changes(host, tmp_path):
    bad = tmp_path / "locks"
    shutil.copytree(os.environ["NB_LOCK_DIR"], bad)
    text = (bad / "server.txt").read_text()

    # Every hash of tornado's files replaced: its wheel in the wheelhouse matches none.
    def zeroed(match):
        return re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, match.group(1))

    text, count = re.subn(r"(?m)^(tornado==\S+.*?)(?=^\S)", zeroed, text, flags=re.S)
    assert count == 1
    (bad / "server.txt").write_text(text)
    cache_before = sh(host, "sha256sum", *sh(host, "sh", "-c", f"ls {CACHE}/*").stdout.split()).stdout
    run = converge(host, {"notebook_instance": "badlock", "notebook_port": 8898, "notebook_lock_dir": str(bad),
                          "notebook_kernels": []})
    assert run.rc != 0 and run.changed == 0, run.output[-3000:]
    assert "tornado" in run.output and "notebook_wheelhouse" in run.output and "sha256" in run.output, run.output[-3000:]
    for path in ("/opt/jupyter-badlock", "/etc/jupyter-badlock", "/var/lib/jupyter-badlock",
                 "/etc/systemd/system/jupyter-badlock.service"):
        assert sh(host, "test", "-e", path).returncode != 0, f"{path} was made by a converge that should have failed first"
    assert sh(host, "getent", "passwd", "jupyter-badlock").returncode != 0
    assert sh(host, "sha256sum", *sh(host, "sh", "-c", f"ls {CACHE}/*").stdout.split()).stdout == cache_before
