# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_venv with the real uv and pip, real venvs, and packages from a local
wheelhouse or an HTTPS index on 127.0.0.1: no network beyond this machine."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time

import pytest
import shutil

from ansible_collections.nbops.jupyter.plugins.module_utils import _job, _venv
from ansible_collections.nbops.jupyter.plugins.modules import notebook_job, notebook_venv

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import build_wheel, run_module


def _uv_binary() -> bytes:
    with open(shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv"), "rb") as fh:
        return fh.read()


@pytest.fixture
def wheels(tmp_path):
    house = tmp_path / "wheels"
    build_wheel(house, "nbprobe", "1.0")
    build_wheel(house, "nbprobe", "2.0")
    build_wheel(house, "nbextra", "0.5")
    return house


@pytest.fixture
def args(tmp_path, wheels, index, uv_wheel):
    """uv and the packages on an HTTPS index, as on PyPI."""
    for wheel in [uv_wheel[0], *wheels.iterdir()]:
        index.add(wheel)
    return {"path": str(tmp_path / "opt" / "venv"), "requirements": ["nbprobe==1.0"], "index_url": index.url,
            "lock_dir": str(tmp_path / "locks")}


def test_fresh_venv_then_nothing_to_do(args, index, uv_wheel):
    first = run_module(notebook_venv, args)
    assert not first.get("failed"), json.dumps(first, indent=1)[-3000:]
    assert first["changed"] and first["packages_changed"]
    assert first["installed"]["nbprobe"] == "1.0" and first["complete"]
    assert first["uv_version"] == uv_wheel[1]
    assert first["actions"][:2] == ["create the venv", "fetch uv (newest)"]
    # uv came from the index, checked against its sha256, then uv asked it for the package.
    assert [r["path"] for r in index.requests][:3] == ["/simple/uv/", f"/files/{uv_wheel[0].name}", "/simple/nbprobe/"]
    requests = len(index.requests)
    second = run_module(notebook_venv, args)
    assert not second["changed"] and second["actions"] == []
    assert len(index.requests) == requests, "a satisfied venv asked the index"


def test_in_the_background_the_job_answers_what_the_foreground_would(args, index, monkeypatch):
    # On a host the module's process ends with os._exit after its answer; here pytest's must go on.
    monkeypatch.setattr(_job, "answer_and_leave", lambda module, **result: module.exit_json(**result))
    secret = "s3cretT0ken"
    url = index.url.replace("https://", f"https://nbops:{secret}@")
    started = run_module(notebook_venv, {**args, "index_url": url, "background": True})
    assert not started["changed"] and started["job"].startswith(args["lock_dir"] + "/job-"), started
    with open(started["job"][:-len(".json")] + ".running", "rb"):
        pass
    answer = run_module(notebook_job, {"path": started["job"], "timeout": 120})
    assert not answer.get("failed"), json.dumps(answer, indent=1)[-3000:]
    assert answer["changed"] and answer["packages_changed"] and answer["installed"]["nbprobe"] == "1.0"
    assert secret not in json.dumps(answer)
    assert sorted(os.listdir(args["lock_dir"])) == [notebook_venv.lock_name(args["path"])], "the job's files stayed"
    again = run_module(notebook_venv, args)
    assert not again["changed"]


def test_upgrade_reports_the_version_change_and_keeps_the_rest(args):
    run_module(notebook_venv, args)
    upgraded = run_module(notebook_venv, {**args, "requirements": ["nbprobe==2.0", "nbextra"]})
    assert upgraded["changed"] and upgraded["installed"]["nbprobe"] == "2.0" and upgraded["installed"]["nbextra"] == "0.5"
    assert upgraded["actions"] == ["install nbprobe==2.0, nbextra"]


def test_failed_resolution_keeps_the_venv_and_its_marker(args):
    run_module(notebook_venv, args)
    failed = run_module(notebook_venv, {**args, "requirements": ["nbprobe==9.9"]})
    assert failed["failed"] and "keeps what it had" in failed["msg"]
    venv = args["path"]
    assert _venv.installed(venv)["nbprobe"] == "1.0"
    assert os.path.exists(os.path.join(venv, _venv.COMPLETE)) and not os.path.exists(os.path.join(venv, _venv.STARTED))
    # No forced reinstall afterwards: the venv still satisfies the old request.
    again = run_module(notebook_venv, args)
    assert not again["changed"] and again["actions"] == []


def test_no_index_and_find_links_are_honoured_by_the_uv_download_too(args, index, wheels, uv_wheel):
    build_wheel(wheels, "uv", uv_wheel[1], scripts={"uv": open(uv_wheel[0], "rb").read() and _uv_binary()})
    offline = {**args, "extra_args": ["--no-index", "--find-links", str(wheels)]}
    result = run_module(notebook_venv, offline)
    assert not result.get("failed"), json.dumps(result, indent=1)[-2500:]
    assert result["installed"]["nbprobe"] == "1.0" and index.requests == []


def test_latest_with_the_index_down_is_a_warning_when_the_venv_satisfies(args, index):
    run_module(notebook_venv, args)
    index.down = True
    result = run_module(notebook_venv, {**args, "state": "latest"})
    assert not result.get("failed"), json.dumps(result, indent=1)[-2500:]
    assert not result["changed"] and "could not look for newer releases" in result["upgrade_error"]


def test_check_mode_predicts_and_changes_nothing(args):
    predicted = run_module(notebook_venv, args, check_mode=True)
    assert predicted["changed"] and predicted["actions"][0] == "create the venv"
    assert not os.path.exists(args["path"])
    run_module(notebook_venv, args)
    assert not run_module(notebook_venv, args, check_mode=True)["changed"]
    # latest: asks uv for a resolution and sees 2.0 would replace 1.0.
    latest = run_module(notebook_venv, {**args, "requirements": ["nbprobe"], "state": "latest"}, check_mode=True)
    assert latest["changed"] and latest["actions"] == ["upgrade nbprobe 1.0 -> 2.0"]
    assert _venv.installed(args["path"])["nbprobe"] == "1.0"


def test_credentials_stay_out_of_argv_and_answers(args, index):
    secret = "tok-3f9a1c"
    url = index.url.replace("https://", f"https://analyst:{secret}@")
    result = run_module(notebook_venv, {**args, "index_url": url})
    assert not result.get("failed"), json.dumps(result, indent=1)[-2500:]
    assert secret not in json.dumps(result)
    # The uv download authenticated with a header, never a URL.
    auth = [r["headers"].get("Authorization") for r in index.requests]
    assert auth and all(value and value.startswith("Basic ") for value in auth)
    assert all(secret not in r["path"] for r in index.requests)


def test_an_index_without_hashes_is_refused(args, index):
    index.hashes = False
    result = run_module(notebook_venv, args)
    assert result["failed"] and "comes with no sha256" in result["msg"]
    assert not os.path.exists(os.path.join(args["path"], "bin", "uv"))


def test_plain_http_indexes_and_credentials_in_extra_args_are_refused(args):
    result = run_module(notebook_venv, {**args, "index_url": "http://mirror.example.org/simple"})
    assert result["failed"] and "https://" in result["msg"]
    result = run_module(notebook_venv, {**args, "extra_args": ["--extra-index-url", "https://u:p@x.example/simple"]})
    assert result["failed"] and "must not carry credentials" in result["msg"] and "u:p@" not in result["msg"]


def test_a_held_lock_makes_the_run_wait(args, tmp_path):
    locks = tmp_path / "locks"
    locks.mkdir(mode=0o700)
    fd = os.open(locks / notebook_venv.lock_name(args["path"]), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = {}
    # flock belongs to an open file, not a process: the module's own open of the lock waits.
    worker = threading.Thread(target=lambda: done.setdefault("result", run_module(notebook_venv, args)))
    started = time.monotonic()
    threading.Timer(1.5, lambda: os.close(fd)).start()
    worker.start()
    worker.join(60)
    assert done["result"]["changed"] and time.monotonic() - started >= 1.4


def test_pip_installer_into_a_venv_with_pip(args):
    result = run_module(notebook_venv, {**args, "installer": "pip"})
    assert not result.get("failed"), json.dumps(result, indent=1)[-2500:]
    assert result["installed"]["nbprobe"] == "1.0" and os.path.exists(os.path.join(args["path"], "bin", "pip"))
    assert not run_module(notebook_venv, {**args, "installer": "pip"})["changed"]


def test_a_lock_installs_with_require_hashes_and_refuses_a_wrong_hash(args, index, wheels, uv_wheel):
    """With a lock, the install is exactly the lock (--require-hashes), from a wheelhouse with no
    index: uv came from the wheelhouse too. A wheel whose hash the lock doesn't list is refused."""
    import hashlib
    build_wheel(wheels, "uv", uv_wheel[1], scripts={"uv": _uv_binary()})
    wheel = wheels / "nbprobe-1.0-py3-none-any.whl"
    good = f"nbprobe==1.0 --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}\n"
    offline = {**args, "requirements": ["nbprobe==1.0"], "lock": good,
               "extra_args": ["--no-index", "--find-links", str(wheels)]}
    bad = run_module(notebook_venv, {**offline, "lock": "nbprobe==1.0 --hash=sha256:" + "0" * 64 + "\n"})
    assert bad["failed"] and "nbprobe" in bad["msg"] and "nbprobe" not in bad["installed"]
    result = run_module(notebook_venv, offline)
    assert not result.get("failed"), json.dumps(result, indent=1)[-2500:]
    assert result["installed"]["nbprobe"] == "1.0" and index.requests == []
    assert not os.listdir(args["lock_dir"]) or all(name.endswith(".lock") for name in os.listdir(args["lock_dir"]))
    assert not run_module(notebook_venv, offline)["changed"]
