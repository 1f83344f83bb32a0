# SPDX-License-Identifier: GPL-3.0-or-later
"""host_state.py, the role's one read-only probe, on real files, keys and certificates made here."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def make_cert(directory, key_spec=("ec", "-pkeyopt", "ec_paramgen_curve:P-256"), days=30, names="DNS:nb.example,IP:127.0.0.1"):
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", *key_spec, "-days", str(days),
                    "-keyout", directory / "key.pem", "-out", directory / "cert.pem", "-subj", "/CN=nb",
                    "-addext", f"subjectAltName={names}"], check=True, capture_output=True)
    return str(directory / "cert.pem"), str(directory / "key.pem")


@needs_openssl
def test_valid_certificate_reports_key_names_and_fingerprint(host_state, tmp_path):
    cert, key = make_cert(tmp_path)
    state = host_state.certificate(cert, key, renew_seconds=86400)
    assert state["state"] == "valid" and state["keytype"] == "ecdsa"
    assert "DNS:nb.example" in state["san"] and "IP Address:127.0.0.1" in state["san"]
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout
    assert state["fingerprint"].replace(":", "").lower() == hashlib.sha256(der).hexdigest()


@needs_openssl
def test_certificate_problems_are_named(host_state, tmp_path):
    cert, key = make_cert(tmp_path / "a")
    other_key = make_cert(tmp_path / "b", key_spec=("rsa:2048",))[1]
    assert host_state.certificate(cert, other_key, 0)["state"] == "mismatch"
    assert host_state.certificate(cert, key, renew_seconds=60 * 86400)["state"] == "expiring"
    assert host_state.certificate(str(tmp_path / "none.pem"), key, 0)["state"] == "missing"
    rsa_cert, rsa_key = make_cert(tmp_path / "c", key_spec=("rsa:2048",))
    rsa = host_state.certificate(rsa_cert, rsa_key, 0)
    assert (rsa["keytype"], rsa["keybits"]) == ("rsa", 2048)


def test_paths_differ_when_missing_or_mode_owner_or_kind_is_off(host_state, tmp_path):
    directory = tmp_path / "conf"
    directory.mkdir(mode=0o750)
    os.chmod(directory, 0o750)
    spec = {"path": str(directory), "owner": ME, "group": MY_GROUP, "mode": "0750", "state": "directory"}
    assert not host_state.path_differs(spec)
    assert host_state.path_differs({**spec, "mode": "0700"})
    assert host_state.path_differs({**spec, "owner": "nobody"})
    assert host_state.path_differs({**spec, "state": "file"})
    assert host_state.path_differs({**spec, "path": str(tmp_path / "missing")})


def test_hashes_come_from_either_versions_config(host_state, tmp_path):
    seven = tmp_path / "jupyter_server_config.json"
    seven.write_text(json.dumps({"PasswordIdentityProvider": {"hashed_password": "argon2:$argon2id$x"}}))
    six = tmp_path / "jupyter_notebook_config.json"
    six.write_text(json.dumps({"NotebookApp": {"password": "sha1:ab:cd"}}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert host_state.deployed_hashes(str(seven)) == ["argon2:$argon2id$x"]
    assert host_state.deployed_hashes(str(six)) == ["sha1:ab:cd"]
    assert host_state.deployed_hashes(str(broken)) == []
    assert host_state.deployed_hashes(str(tmp_path / "absent.json")) == []


def test_whole_probe_answers_from_a_request_on_stdin(host_state, tmp_path):
    files = Path(host_state.__file__).parent
    # A real venv that sees this interpreter's packages (pytest, packaging) through a .pth file.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "outer.pth").write_text(os.path.dirname(pytest.__path__[0]) + "\n")
    (venv / ".nbops-install-complete").touch()
    stale = tmp_path / "jupyter_notebook_config.py"
    stale.write_text("")
    request = {
        "packages": ["dpkg", "no-such-package-here"],
        "venv": str(venv),
        "requirements_probe": (files / "requirements_state.py").read_text(),
        "requirements": ["pytest>=1", "no-such-dist==1.0"],
        "account": {"user": ME, "group": MY_GROUP, "home": pwd.getpwnam(ME).pw_dir, "shell": pwd.getpwnam(ME).pw_shell},
        "paths": [{"path": str(tmp_path / "missing"), "owner": ME, "group": MY_GROUP, "mode": "0750", "state": "directory"}],
        "configs": [str(tmp_path / "jupyter_server_config.json")],
        "config_files": [str(stale), str(tmp_path / "jupyter_server_config.py")],
        "service": "nbops-no-such-unit",
        "tls": None,
        "rendered": [{"path": str(stale), "owner": ME, "group": MY_GROUP, "mode": "0640"},
                     {"path": str(tmp_path / "absent.json"), "owner": ME, "group": MY_GROUP, "mode": "0640"}],
    }
    os.chmod(stale, 0o640)
    proc = subprocess.run([sys.executable, host_state.__file__], input=json.dumps(request),
                          capture_output=True, text=True, check=True)
    answer = json.loads(proc.stdout)
    assert "no-such-package-here" not in answer["packages"]
    assert answer["venv"]["exists"] and not answer["venv"]["uv"]
    # The venv's own python answered: its marker, and pytest seen through the .pth file.
    assert answer["venv"]["complete"] is True
    assert answer["venv"]["requirements"]["pytest>=1"]["satisfied"]
    assert not answer["venv"]["requirements"]["no-such-dist==1.0"]["satisfied"]
    assert answer["paths_to_fix"] == [str(tmp_path / "missing")]
    assert answer["config_files"] == [str(stale)]
    assert answer["group_ok"] and answer["user_ok"]
    assert answer["service"] == {"active": False, "enabled": False}
    assert "tls" not in answer
    # sha1 of "" for the file in place; None for the missing one, so its template task runs.
    assert answer["rendered"] == {str(stale): "da39a3ee5e6b4b0d3255bfef95601890afd80709", str(tmp_path / "absent.json"): None}


def test_rendered_file_with_another_mode_has_no_checksum(host_state, tmp_path):
    target = tmp_path / "unit.service"
    target.write_text("[Unit]\n")
    os.chmod(target, 0o600)
    spec = {"path": str(target), "owner": ME, "group": MY_GROUP, "mode": "0644"}
    assert host_state.rendered(spec) is None
    os.chmod(target, 0o644)
    assert host_state.rendered(spec) == hashlib.sha1(b"[Unit]\n").hexdigest()
