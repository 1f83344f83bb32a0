# SPDX-License-Identifier: GPL-3.0-or-later
"""install_venv.py, the role's background install job, run as Ansible runs it (python -c SOURCE
REQUEST) with real venvs; the installer and the probe are small real commands standing in for
uv and the venv's requirements_state.py."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest


def py(code):
    return [sys.executable, "-c", code]


def fake_uv(venv, version):
    """argv that puts a uv at venv/bin/uv which answers --version like the real one."""
    uv = venv / "bin" / "uv"
    return py(f"import os; open({str(uv)!r}, 'w').write('#!/bin/sh\\necho uv {version}\\n'); os.chmod({str(uv)!r}, 0o755)")


@pytest.fixture(scope="module")
def source(install_venv):
    return Path(install_venv.__file__).read_text()


def start(source, request):
    return subprocess.Popen([sys.executable, "-c", source, json.dumps(request)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run(source, request):
    proc = start(source, request)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.fixture
def request_for(tmp_path):
    venv = tmp_path / "venv"

    def make(**overrides):
        request = {
            "venv": str(venv),
            "venv_argv": [sys.executable, "-m", "venv", "--without-pip", str(venv)],
            "uv": fake_uv(venv, "1.2.3"),
            "uv_version": "",
            "marker": str(venv / ".nbops-install-complete"),
            "lock": str(tmp_path / "install.lock"),
            "install": py("print('Successfully installed demo-1.0')"),
            "probe": py("import json; print(json.dumps({'requirements': {'demo': {'version': '1.0'}}}))"),
        }
        request.update(overrides)
        return request

    return make


def test_fresh_host_gets_venv_uv_packages_marker_and_the_state_last(request_for, source):
    request = request_for()
    code, out, err = run(source, request)
    assert code == 0, err
    venv = Path(request["venv"])
    assert (venv / "bin" / "python").exists() and (venv / "bin" / "uv").exists()
    assert Path(request["marker"]).exists()
    lines = out.strip().splitlines()
    assert lines[0] == "Successfully installed demo-1.0", "the installer's output must pass through"
    assert json.loads(lines[-1]) == {"requirements": {"demo": {"version": "1.0"}}}


def test_a_venv_and_uv_already_there_are_not_made_again(request_for, source):
    assert run(source, request_for())[0] == 0
    # Would fail if run: success means both steps were skipped.
    code, dummy, err = run(source, request_for(venv_argv=py("raise SystemExit(9)"), uv=py("raise SystemExit(9)")))
    assert code == 0, err


def test_pip_venv_without_pip_is_made_again(request_for, source):
    # uv: null means pip, whose venv is whole only with bin/pip; a venv without it is made again.
    assert run(source, request_for())[0] == 0
    code, dummy, dummy = run(source, request_for(uv=None, venv_argv=py("raise SystemExit(7)")))
    assert code == 7


def test_failed_install_leaves_no_marker_and_no_state(request_for, source):
    assert run(source, request_for())[0] == 0
    request = request_for(install=py("import sys; print('partial'); sys.exit(3)"))
    code, out, dummy = run(source, request)
    assert code == 3
    assert not Path(request["marker"]).exists(), "a failed install must not look complete"
    assert "requirements" not in out


def test_waits_for_an_install_that_holds_the_lock(request_for, source):
    request = request_for()
    with open(request["lock"], "a", encoding="ascii") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = start(source, request)
        time.sleep(1)
        assert proc.poll() is None and not Path(request["marker"]).exists(), "it ran beside a running install"
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert Path(request["marker"]).exists() and "requirements" in out.strip().splitlines()[-1]


def test_uv_of_another_release_is_fetched_again_when_one_is_pinned(request_for, source):
    assert run(source, request_for())[0] == 0
    uv = Path(request_for()["venv"]) / "bin" / "uv"
    assert subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout.strip() == "uv 1.2.3"
    # The same release pinned: no fetch (a fetch would fail here).
    assert run(source, request_for(uv_version="1.2.3", uv=py("raise SystemExit(9)")))[0] == 0
    # Another release pinned: fetched.
    code, dummy, err = run(source, request_for(uv_version="0.9.0", uv=fake_uv(Path(request_for()["venv"]), "0.9.0")))
    assert code == 0, err
    assert subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout.strip() == "uv 0.9.0"
