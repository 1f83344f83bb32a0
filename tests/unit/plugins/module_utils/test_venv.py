# SPDX-License-Identifier: GPL-3.0-or-later
"""_venv: what a venv holds, read from its metadata, and what an install must do to it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _venv


def make_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def add_dist(venv, name, version, files=("__init__.py",)):
    """A distribution as installers leave it: package files, METADATA and a RECORD listing them."""
    site = next(venv.glob("lib/python3*/site-packages"))
    package = site / name.replace("-", "_")
    package.mkdir(exist_ok=True)
    for item in files:
        (package / item).write_text("")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    record = [f"{package.name}/{item},," for item in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")
    return package


def test_installed_reads_metadata_with_normalized_names(tmp_path):
    venv = make_venv(tmp_path)
    add_dist(venv, "Jupyter_Server", "2.17.0")
    add_dist(venv, "notebook", "7.6.5")
    assert _venv.installed(str(venv)) == {"jupyter-server": "2.17.0", "notebook": "7.6.5"}
    assert _venv.installed(str(tmp_path / "none")) == {}


def test_requirements_are_checked_with_packaging(tmp_path):
    venv = make_venv(tmp_path)
    have = {"notebook": "7.6.5", "numpy": "2.1.0"}
    result = _venv.evaluate(["notebook==7.6.5", "numpy>=2,<3", "matplotlib", "Notebook<7", "x; python_version < '3'"],
                            have, str(venv))
    assert result["notebook==7.6.5"] == {"name": "notebook", "version": "7.6.5", "satisfied": True}
    assert result["numpy>=2,<3"]["satisfied"]
    assert result["matplotlib"] == {"name": "matplotlib", "version": None, "satisfied": False}
    assert not result["Notebook<7"]["satisfied"]
    # A marker that does not apply here is satisfied by nothing installed.
    assert result["x; python_version < '3'"]["satisfied"]
    with pytest.raises(ValueError, match="not a PEP 508 requirement"):
        _venv.evaluate(["git+https://example.org/x.git ["], have, str(venv))


def test_complete_marker_and_an_install_that_wrote_nothing(tmp_path):
    venv = make_venv(tmp_path)
    add_dist(venv, "notebook", "7.6.5")
    assert not _venv.install_complete(str(venv))
    (venv / _venv.COMPLETE).touch()
    assert _venv.install_complete(str(venv))
    # Started, then killed while downloading: the venv is what it was.
    _venv.write_started(str(venv), {"notebook": "7.6.5"})
    assert _venv.install_complete(str(venv))


def test_an_install_cut_off_mid_write_is_incomplete(tmp_path):
    venv = make_venv(tmp_path)
    package = add_dist(venv, "notebook", "7.6.5", files=("__init__.py", "app.py"))
    (venv / _venv.COMPLETE).touch()
    _venv.write_started(str(venv), {"notebook": "7.6.5"})
    # A new distribution appeared: the installer was writing.
    add_dist(venv, "tornado", "6.5")
    assert not _venv.install_complete(str(venv))
    # Same distributions, but files its RECORD lists are gone: an uninstall was cut off.
    _venv.write_started(str(venv), {"notebook": "7.6.5", "tornado": "6.5"})
    assert _venv.install_complete(str(venv))
    (package / "app.py").unlink()
    assert not _venv.install_complete(str(venv))


def test_finish_keeps_the_marker_when_a_failed_install_wrote_nothing(tmp_path):
    venv = make_venv(tmp_path)
    add_dist(venv, "notebook", "7.6.5")
    (venv / _venv.COMPLETE).touch()
    before = _venv.installed(str(venv))
    _venv.write_started(str(venv), before)
    _venv.finish(str(venv), False, before, _venv.installed(str(venv)))
    assert (venv / _venv.COMPLETE).exists() and not (venv / _venv.STARTED).exists()
    # One that wrote part of an upgrade loses it.
    _venv.write_started(str(venv), before)
    add_dist(venv, "tornado", "6.5")
    _venv.finish(str(venv), False, before, _venv.installed(str(venv)))
    assert not (venv / _venv.COMPLETE).exists()


def test_finish_rewrites_the_marker_only_when_something_changed(tmp_path):
    """The marker's time tells the host reader the venv changed after the server started."""
    venv = make_venv(tmp_path)
    add_dist(venv, "notebook", "7.6.5")
    (venv / _venv.COMPLETE).touch()
    os.utime(venv / _venv.COMPLETE, (1, 1))
    same = _venv.installed(str(venv))
    _venv.finish(str(venv), True, same, same)
    assert os.stat(venv / _venv.COMPLETE).st_mtime == 1
    _venv.finish(str(venv), True, {}, same)
    assert os.stat(venv / _venv.COMPLETE).st_mtime > 1


@pytest.mark.parametrize(("exists", "complete", "installed", "desired", "expected"), [
    # A fresh host: make it and install everything.
    (False, False, {}, "present", {"create": True, "install": ["notebook", "numpy"], "reinstall": False}),
    # Converged: nothing to do, no index asked.
    (True, True, {"notebook": "7.6.5", "numpy": "2"}, "present", {"create": False, "install": [], "reinstall": False}),
    # One requirement missing: only that one.
    (True, True, {"notebook": "7.6.5"}, "present", {"create": False, "install": ["numpy"], "reinstall": False}),
    # Latest asks for everything, every run.
    (True, True, {"notebook": "7.6.5", "numpy": "2"}, "latest", {"create": False, "install": ["notebook", "numpy"], "reinstall": False}),
    # Cut off mid-write: everything again, reinstalled.
    (True, False, {"notebook": "7.6.5"}, "present", {"create": False, "install": ["notebook", "numpy"], "reinstall": True}),
    # An empty venv whose first install failed: install, nothing to reinstall.
    (True, False, {}, "present", {"create": False, "install": ["notebook", "numpy"], "reinstall": False}),
])
def test_plan(exists, complete, installed, desired, expected):
    state = {"exists": exists, "complete": complete, "installed": installed, "uv_version": "0.13.9",
             "requirements": {spec: {"name": spec, "version": installed.get(spec), "satisfied": spec in installed}
                              for spec in ("notebook", "numpy")}}
    steps = _venv.plan(state, desired, "uv", "")
    assert {key: steps[key] for key in expected} == expected


def test_plan_fetches_uv_only_for_an_install():
    state = {"exists": True, "complete": True, "installed": {"notebook": "7"}, "uv_version": "0.12.0",
             "requirements": {"notebook": {"name": "notebook", "version": "7", "satisfied": True}}}
    assert not _venv.plan(state, "present", "uv", "0.13.9")["fetch_uv"]
    assert _venv.plan(state, "latest", "uv", "0.13.9")["fetch_uv"]
    assert not _venv.plan(state, "latest", "uv", "0.12.0")["fetch_uv"]


def test_credentials_go_to_the_environment_not_argv():
    steps = {"install": ["notebook"], "upgrade": False, "reinstall": False}
    url = "https://user:s3cret@pypi.example.org/simple"
    for installer, variable in (("uv", "UV_INDEX_URL"), ("pip", "PIP_INDEX_URL")):
        argv = _venv.installer_argv("/opt/venv", installer, steps, ["--no-cache-dir"])
        assert not any("s3cret" in word for word in argv)
        assert _venv.installer_env(installer, url)[variable] == url
    assert _venv.tail(f"error fetching {url}/notebook/") == ["error fetching https://***@pypi.example.org/simple/notebook/"]


def test_lock_pins_are_judged_without_packaging(monkeypatch, tmp_path):
    """A lock's name==version pins are checked with no parser (kernel venvs, hosts without packaging)."""
    monkeypatch.setattr(_venv, "requirement_class", lambda venv: None)
    result = _venv.evaluate(["tornado==6.6.1", "six==1.17.0"], {"tornado": "6.6.1", "six": "1.16.0"}, str(tmp_path))
    assert result["tornado==6.6.1"]["satisfied"] is True
    assert result["six==1.17.0"]["satisfied"] is False
