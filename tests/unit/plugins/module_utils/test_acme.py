# SPDX-License-Identifier: GPL-3.0-or-later
"""_acme: what certbot holds (a lineage made here with openssl, laid out as certbot lays it out),
the reasons to ask the directory again, and whether the live pair is certbot's current one. The
real certbot against pebble runs in the acme molecule scenario."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _acme

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
DIRECTORY = "https://acme.example.org/directory"


def lineage(root, names=("nb1.example.org",), days=90, server=DIRECTORY, key=("ec", "-pkeyopt", "ec_paramgen_curve:P-256")):
    live = root / "live" / "jupyter-notebook"
    live.mkdir(parents=True, exist_ok=True)
    (root / "renewal").mkdir(exist_ok=True)
    # A CA-issued look: issuer != subject.
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", *key, "-days", str(days), "-subj", "/CN=issuer",
                    "-keyout", str(root / "ca.key"), "-out", str(root / "ca.pem")], capture_output=True, check=True)
    subprocess.run(["openssl", "req", "-new", "-nodes", "-newkey", *key, "-subj", f"/CN={names[0]}",
                    "-keyout", str(live / "privkey.pem"), "-out", str(root / "req.csr")], capture_output=True, check=True)
    ext = root / "ext.cnf"
    ext.write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(root / "req.csr"), "-CA", str(root / "ca.pem"), "-CAkey",
                    str(root / "ca.key"), "-set_serial", "7", "-days", str(days), "-extfile", str(ext),
                    "-out", str(root / "leaf.pem")], capture_output=True, check=True)
    (live / "fullchain.pem").write_text((root / "leaf.pem").read_text() + (root / "ca.pem").read_text())
    (root / "renewal" / "jupyter-notebook.conf").write_text(f"version = 2.1.0\nserver = {server}\n[renewalparams]\n")
    return live


def inspect(root, live_cert, names=("nb1.example.org",), directory=DIRECTORY, renew_days=30):
    return _acme.inspect("jupyter-notebook", list(names), directory, "ecdsa", 3072, renew_days, str(live_cert), root=str(root))


def test_nothing_yet_means_ask(tmp_path):
    found = inspect(tmp_path, tmp_path / "live.pem")
    assert found["state"] == "missing" and found["reasons"] == ["certificate or key missing"]
    assert not found["deploy_needed"]


def test_a_current_lineage_is_kept_and_put_live_once(tmp_path):
    live = lineage(tmp_path)
    served = tmp_path / "served.pem"
    found = inspect(tmp_path, served)
    assert found["reasons"] == [] and found["deploy_needed"]
    served.write_bytes((live / "fullchain.pem").read_bytes())
    assert not inspect(tmp_path, served)["deploy_needed"]


@pytest.mark.parametrize("change, reason", [
    ({"names": ("nb1.example.org", "nb.example.org")}, "names changed"),
    ({"directory": "https://other.example.org/dir"}, "another ACME directory"),
    ({"renew_days": 100}, "expires within notebook_tls_renew_days"),
])
def test_reasons_to_ask_again(tmp_path, change, reason):
    lineage(tmp_path)
    assert reason in inspect(tmp_path, tmp_path / "served.pem", **change)["reasons"]


def test_a_ca_issued_certificate_is_not_a_reason(tmp_path):
    """Unlike a self-signed one, an ACME certificate is issued by someone else: no 'not self-signed'."""
    lineage(tmp_path)
    assert inspect(tmp_path, tmp_path / "served.pem")["reasons"] == []


def test_the_renewal_server_is_read_from_certbots_config(tmp_path):
    lineage(tmp_path, server="https://pebble:14000/dir")
    assert _acme.renewal_server("jupyter-notebook", str(tmp_path)) == "https://pebble:14000/dir"
    assert _acme.renewal_server("other", str(tmp_path)) == ""


def test_when_it_must_ask_it_first_checks_that_it_can(tmp_path):
    """Unresolvable names are reported without asking the directory; a directory that doesn't
    answer is reported by name (a closed port on 127.0.0.1 here)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    found = inspect(tmp_path, tmp_path / "served.pem", names=("nb.does-not-resolve.invalid",),
                    directory=f"https://127.0.0.1:{closed}/dir")
    assert found["unresolved"] == ["nb.does-not-resolve.invalid"] and found["directory_problem"] == ""
    found = inspect(tmp_path, tmp_path / "served.pem", names=("localhost",), directory=f"https://127.0.0.1:{closed}/dir")
    assert found["unresolved"] == [] and "Connection refused" in found["directory_problem"]
    lineage(tmp_path, names=("localhost",))
    kept = inspect(tmp_path, tmp_path / "served.pem", names=("localhost",))
    assert kept["reasons"] == [] and kept["directory_problem"] == "" and kept["unresolved"] == []
