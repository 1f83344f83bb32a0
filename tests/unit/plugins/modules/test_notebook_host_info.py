# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_host_info answering one request about a host laid out under tmp_path:
a real venv (metadata only), config files, paths, a certificate made with openssl, this
machine's dpkg and accounts; and never changing anything."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _facts, _san, _stamp, _tls, _venv
from ansible_collections.nbops.jupyter.plugins.modules import notebook_host_info

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import run_module

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the layout has root-owned files and certificates")
ROOT = pwd.getpwnam("root")
ROOT_GROUP = grp.getgrgid(ROOT.pw_gid).gr_name
NAMES = ["nb.example.org", "127.0.0.1"]
SEVEN_HASH = "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdA$aGFzaA"
SIX_HASH = "sha1:0123456789ab:cdef"


def make_venv(base):
    venv = base / "opt" / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def add_dist(venv, name, version):
    """A distribution as installers leave it: a package, METADATA and a RECORD listing them."""
    site = next(venv.glob("lib/python3*/site-packages"))
    package = site / name.replace("-", "_")
    package.mkdir()
    (package / "__init__.py").write_text("")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{package.name}/__init__.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")


def listing(root):
    """Every entry under root with its kind, owner, mode, size, mtime and link target."""
    entries = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            entries[path] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns,
                             os.readlink(path) if stat.S_ISLNK(st.st_mode) else None)
    return entries


@pytest.fixture
def host(tmp_path):
    """A host half converged: the venv holds nbprobe 1.5, the config directory is right, some paths are
    missing or links, both Notebook versions' JSON configs and a stale .py one are there."""
    os.chmod(tmp_path, 0o755)
    venv = make_venv(tmp_path)
    add_dist(venv, "nbprobe", "1.5")
    (venv / _venv.COMPLETE).touch()
    etc = tmp_path / "etc"
    etc.mkdir()
    os.chmod(etc, 0o750)
    seven, six, stale = etc / "jupyter_server_config.json", etc / "jupyter_notebook_config.json", etc / "jupyter_notebook_config.py"
    seven.write_text(json.dumps({"PasswordIdentityProvider": {"hashed_password": SEVEN_HASH}}))
    six.write_text(json.dumps({"NotebookApp": {"password": SIX_HASH}}))
    stale.write_text("c = get_config()\n")
    for path in (seven, six):
        os.chmod(path, 0o640)
    os.chmod(stale, 0o644)
    (tmp_path / "real").mkdir()
    os.chmod(tmp_path / "real", 0o750)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    tls = tmp_path / "tls"
    tls.mkdir()
    os.chmod(tls, 0o750)
    _tls.make_self_signed(str(tls), NAMES, "nb.example.org", "ecdsa", 3072, 200, 0)
    return tmp_path


def path(item, owner="root", group=ROOT_GROUP, mode="0750", state="directory"):
    return {"path": str(item), "owner": owner, "group": group, "mode": mode, "state": state}


def request(base):
    etc = base / "etc"
    return {
        "packages": ["dpkg", "nbops-no-such-package"],
        "venv": {"path": str(base / "opt" / "venv") + "/", "requirements": ["nbprobe>=1", "nbprobe<1", "nbmissing==1.0"]},
        "account": {"user": "root", "group": ROOT_GROUP, "home": ROOT.pw_dir, "shell": ROOT.pw_shell},
        "paths": [path(etc), path(base / "missing"), path(base / "link"), path(base / "real", mode="0700"),
                  path(etc / "jupyter_server_config.json", mode="0640", state="file"),
                  path(etc, owner="nbops-no-such-user")],
        "rendered": [{"dest": str(etc / "jupyter_server_config.json"), "owner": "root", "group": ROOT_GROUP, "mode": "0640",
                      "src": "jupyter_server_config.json.j2"},
                     {"dest": str(etc / "jupyter_notebook_config.py"), "owner": "root", "group": ROOT_GROUP, "mode": "0640"},
                     {"dest": str(etc / "absent.json"), "owner": "root", "group": ROOT_GROUP, "mode": "0640"}],
        "config_files": [str(etc / name) for name in
                         ("jupyter_server_config.json", "jupyter_notebook_config.json", "jupyter_notebook_config.py", "jupyter_server_config.py")],
        "service": {"name": "nbops-no-such-unit", "restart_files": [str(etc / "jupyter_server_config.json")]},
        "tls": {"cert": str(base / "tls" / "live" / "cert.pem"), "key": str(base / "tls" / "live" / "key.pem"), "names": NAMES},
    }


def test_the_whole_request_is_answered(host):
    """Every part of the answer, from the host as laid out."""
    etc = host / "etc"
    answer = run_module(notebook_host_info, request(host))
    assert not answer.get("failed"), answer
    assert answer["changed"] is False
    if shutil.which("dpkg-query"):
        assert answer["packages"] == ["dpkg"]
    venv = answer["venv"]
    assert (venv["exists"], venv["complete"], venv["installed"], venv["uv_version"]) == (True, True, {"nbprobe": "1.5"}, None)
    assert venv["requirements"] == {
        "nbprobe>=1": {"name": "nbprobe", "version": "1.5", "satisfied": True},
        "nbprobe<1": {"name": "nbprobe", "version": "1.5", "satisfied": False},
        "nbmissing==1.0": {"name": "nbmissing", "version": None, "satisfied": False},
    }
    # Only what is unsatisfied, with uv fetched first (the venv has none).
    assert venv["plan"] == {"create": False, "fetch_uv": True, "install": ["nbprobe<1", "nbmissing==1.0"], "reinstall": False,
                            "upgrade": False}
    assert answer["account"]["user_ok"] and answer["account"]["group_ok"] and answer["account"]["user"]["uid"] == 0
    # The right directory and file are not listed; a missing path, a link, a wrong mode and an unknown owner are.
    assert answer["paths_to_fix"] == [str(host / "missing"), str(host / "link"), str(host / "real"), str(etc)]
    seven = etc / "jupyter_server_config.json"
    assert answer["rendered"] == {str(seven): hashlib.sha1(seven.read_bytes()).hexdigest(),
                                  str(etc / "jupyter_notebook_config.py"): None, str(etc / "absent.json"): None}
    assert answer["config_files"] == [str(seven), str(etc / "jupyter_notebook_config.json"), str(etc / "jupyter_notebook_config.py")]
    assert answer["hashes"] == {str(seven): [SEVEN_HASH], str(etc / "jupyter_notebook_config.json"): [SIX_HASH]}
    assert answer["service"] == {"active": False, "enabled": False, "main_pid": 0, "restart_pending": False, "restart_reasons": []}
    tls = answer["tls"]
    assert (tls["state"], tls["key_type"], tls["reasons"]) == ("valid", "ecdsa", [])
    assert tls["names"] == _san.entries_from_names(NAMES)
    assert tls["fingerprint_sha256"] == _tls.fingerprint(str(host / "tls" / "live" / "cert.pem"))


def test_it_changes_nothing_in_either_mode(host):
    """Normal and check mode give the same answer, and the tree under tmp_path is the same before and after."""
    before = listing(host)
    answer = run_module(notebook_host_info, request(host))
    assert listing(host) == before
    checked = run_module(notebook_host_info, request(host), check_mode=True)
    assert listing(host) == before
    assert answer == checked and not answer["changed"]


def test_a_certificate_to_make_again_and_a_venv_to_make(host):
    """Other names and key type give their reasons; a venv that is not there is planned from scratch."""
    asked = request(host)
    asked["tls"] = {**asked["tls"], "names": ["other.example.org"], "key_type": "rsa"}
    asked["venv"] = {"path": str(host / "opt" / "absent"), "requirements": ["nbprobe>=1"]}
    answer = run_module(notebook_host_info, asked)
    assert answer["tls"]["reasons"] == ["names changed", "key type changed"]
    assert answer["venv"]["exists"] is False and answer["venv"]["installed"] == {}
    assert answer["venv"]["plan"] == {"create": True, "fetch_uv": True, "install": ["nbprobe>=1"], "reinstall": False, "upgrade": False}
    assert not os.path.exists(host / "opt" / "absent")
    # Made for 200 days: within a 300-day renewal window it is expiring.
    asked["tls"] = {**asked["tls"], "names": NAMES, "key_type": "ecdsa", "renew_days": 300}
    assert run_module(notebook_host_info, asked)["tls"]["reasons"] == ["expires within notebook_tls_renew_days"]


def test_without_tls_names_or_tls_no_reasons_are_given(host):
    """Without tls.names the certificate is only inspected (a CA-issued one); without tls, no tls key."""
    asked = request(host)
    asked["tls"] = {key: value for key, value in asked["tls"].items() if key != "names"}
    inspected = run_module(notebook_host_info, asked)
    assert inspected["tls"]["state"] == "valid" and "reasons" not in inspected["tls"]
    del asked["tls"]
    assert "tls" not in run_module(notebook_host_info, asked)


def test_a_bad_requirement_is_an_error(host):
    """A requirement that is not PEP 508 fails the module with the requirement named."""
    asked = request(host)
    asked["venv"] = {**asked["venv"], "requirements": ["nbprobe >>= 1"]}
    answer = run_module(notebook_host_info, asked)
    assert answer["failed"] and "'nbprobe >>= 1' is not a PEP 508 requirement" in answer["msg"]


def _stamped(base, stamp, inputs="inputs-1", write=False, check_mode=False, asked=None, expect=None):
    asked = asked or request(base)
    if write and expect is None:
        # What the run's first call found: the host as it is now.
        expect = _stamped(base, stamp, inputs, asked=asked)["digest"]
    options = {"path": str(stamp), "inputs": inputs, "write": write, "expect": expect or ""}
    return run_module(notebook_host_info, {**asked, "stamp": options}, check_mode=check_mode)["stamp"]


def test_the_stamp_matches_only_the_inputs_options_and_host_it_was_written_for(host):
    stamp = host / "run" / "nbops" / "converged-nb"
    assert _stamped(host, stamp) == {"digest": _stamped(host, stamp)["digest"], "matches": False, "written": False}
    # Check mode writes nothing.
    assert not _stamped(host, stamp, write=True, check_mode=True)["written"] and not stamp.parent.exists()
    # A host found otherwise than the run started from: the run changed something, no stamp.
    assert not _stamped(host, stamp, write=True, expect="0" * 64)["written"] and not stamp.exists()
    written = _stamped(host, stamp, write=True)
    assert written["written"] and written["matches"]
    assert stat.S_IMODE(stamp.parent.stat().st_mode) == 0o700 and stat.S_IMODE(stamp.stat().st_mode) == 0o600
    # The record: the inputs, the host's facts, the options read with, and the digest of them all and the answer.
    record = json.loads(stamp.read_text())
    assert (record["inputs"], record["facts"], record["digest"]) == ("inputs-1", _facts.gather(), written["digest"])
    assert record["options"]["venv"]["path"] == request(host)["venv"]["path"] and record["options"]["tls"]["names"] == NAMES
    assert _stamped(host, stamp)["matches"]
    # Other inputs, another option, another host state: no match.
    assert not _stamped(host, stamp, inputs="inputs-2")["matches"]
    assert not _stamped(host, stamp, asked={**request(host), "packages": ["dpkg"]})["matches"]
    os.chmod(host / "etc" / "jupyter_server_config.json", 0o644)
    assert not _stamped(host, stamp)["matches"]
    os.chmod(host / "etc" / "jupyter_server_config.json", 0o640)
    assert _stamped(host, stamp)["matches"]


def test_a_stamp_anybody_but_root_could_have_left_is_not_trusted(host):
    stamp = host / "run" / "nbops" / "converged-nb"
    digest = _stamped(host, stamp, write=True)["digest"]
    os.chown(stamp, 65534, 65534)
    assert not _stamped(host, stamp)["matches"]
    os.chown(stamp, 0, 0)
    os.chmod(stamp, 0o666)
    assert not _stamped(host, stamp)["matches"]
    # A link to a file that holds the right record is not followed.
    elsewhere = host / "elsewhere"
    os.chmod(stamp, 0o600)
    shutil.copy(stamp, elsewhere)
    stamp.unlink()
    stamp.symlink_to(elsewhere)
    assert not _stamped(host, stamp)["matches"]
    stamp.unlink()
    # A directory others can write is refused: not read, and not written into.
    _stamped(host, stamp, write=True)
    os.chmod(stamp.parent, 0o777)
    assert not _stamped(host, stamp)["matches"]
    options = {"path": str(stamp), "inputs": "inputs-1", "write": True, "expect": digest}
    failed = run_module(notebook_host_info, {**request(host), "stamp": options})
    assert failed.get("failed") and "must be owned by root with mode 0700" in failed["msg"]


def _recorded(stamp, **more):
    return run_module(notebook_host_info, {"facts": True, "stamp": {"path": str(stamp), "recorded": True}, **more})


def test_recorded_reads_the_host_as_the_stamps_run_did(host):
    """The run's first call: the facts, and where the stamp recorded these facts, the host read with the
    options it recorded - the answer a whole reading with them gives, whether it is the stamp's, and the
    inputs' digest the stamp recorded (the controller compares it with its own once it has the facts)."""
    stamp = host / "run" / "nbops" / "converged-nb"
    first = _recorded(stamp)
    # No stamp (a first converge): the facts only, nothing read.
    assert first["ansible_facts"] == _facts.gather() and not first["changed"]
    assert first["stamp"] == {"inputs": "", "facts_match": False, "digest": "", "matches": False, "written": False}
    assert "venv" not in first and "hashes" not in first
    _stamped(host, stamp, write=True)
    whole = run_module(notebook_host_info, request(host))
    converged = _recorded(stamp)
    assert converged["stamp"]["facts_match"] and converged["stamp"]["matches"] and converged["stamp"]["inputs"] == "inputs-1"
    assert {key: converged[key] for key in whole if key not in ("changed", "invocation")} == {
        key: value for key, value in whole.items() if key not in ("changed", "invocation")}
    # The host changed behind the role's back: read, and found otherwise.
    os.chmod(host / "etc" / "jupyter_server_config.json", 0o644)
    drifted = _recorded(stamp)
    assert drifted["stamp"]["facts_match"] and not drifted["stamp"]["matches"]
    assert drifted["rendered"][str(host / "etc" / "jupyter_server_config.json")] is None
    assert drifted["stamp"]["digest"] == _stamped(host, stamp)["digest"]


def test_recorded_needs_the_same_facts_and_options_it_can_check(host):
    """A record of other facts (another Python, a renamed host) or with options the module would refuse
    reads nothing; options given beside stamp.recorded are refused."""
    stamp = host / "run" / "nbops" / "converged-nb"
    _stamped(host, stamp, write=True)
    record = json.loads(stamp.read_text())
    _stamp.write(str(stamp), {**record, "facts": {**record["facts"], "fqdn": "renamed.example.org"}})
    renamed = _recorded(stamp)
    assert not renamed["stamp"]["facts_match"] and not renamed["stamp"]["matches"] and "venv" not in renamed
    _stamp.write(str(stamp), {**record, "options": {**record["options"], "venv": None}})
    assert not _recorded(stamp)["stamp"]["facts_match"]
    _stamp.write(str(stamp), {**record, "options": {**record["options"], "tls": {**record["options"]["tls"], "key_type": "dsa"}}})
    assert not _recorded(stamp)["stamp"]["facts_match"]
    _stamp.write(str(stamp), record)
    assert _recorded(stamp)["stamp"]["matches"]
    # A stamp of the release before records (two lines of digests) is none.
    stamp.write_text("a" * 64 + "\n" + "b" * 64 + "\n")
    assert _recorded(stamp)["stamp"] == {"inputs": "", "facts_match": False, "digest": "", "matches": False, "written": False}
    refused = _recorded(stamp, venv=request(host)["venv"])
    assert refused["failed"] and "stamp.recorded reads the host with the options the stamp recorded" in refused["msg"]
    partial = run_module(notebook_host_info, {"venv": request(host)["venv"]})
    assert partial["failed"] and "venv, account and service are required" in partial["msg"]
    no_inputs = run_module(notebook_host_info, {**request(host), "stamp": {"path": str(stamp)}})
    assert no_inputs["failed"] and "stamp.inputs is required" in no_inputs["msg"]
    # Facts alone: nothing read.
    alone = run_module(notebook_host_info, {"facts": True})
    assert set(alone) - {"changed", "invocation"} == {"ansible_facts"}


def test_no_stamp_where_the_hosts_facts_are_not_those_the_options_came_from(host):
    """stamp.facts: the facts the controller worked the options out from; when the host's are others by the
    end of the run (renamed under it), the record would pair old options with new facts: not written."""
    stamp = host / "run" / "nbops" / "converged-nb"
    expect = _stamped(host, stamp)["digest"]
    options = {"path": str(stamp), "inputs": "inputs-1", "write": True, "expect": expect}
    other = {**_facts.gather(), "fqdn": "before.example.org"}
    answer = run_module(notebook_host_info, {**request(host), "stamp": {**options, "facts": other}})
    assert not answer["stamp"]["written"] and not stamp.exists()
    answer = run_module(notebook_host_info, {**request(host), "stamp": {**options, "facts": _facts.gather()}})
    assert answer["stamp"]["written"] and stamp.exists()


def test_a_record_over_the_limit_is_not_written(host):
    """A record past the size a stamp is read up to would never match: it is not written, and the run is told."""
    stamp = host / "run" / "nbops" / "converged-nb"
    asked = {**request(host), "packages": ["nbops-package-%06d" % i for i in range(60000)]}
    expect = _stamped(host, stamp, asked=asked)["digest"]
    answer = run_module(notebook_host_info, {**asked, "stamp": {"path": str(stamp), "inputs": "inputs-1", "write": True, "expect": expect}})
    assert not answer["stamp"]["written"] and not stamp.exists()
    assert "whole one" in json.dumps(answer.get("warnings", [])), answer.get("warnings")
