# SPDX-License-Identifier: GPL-3.0-or-later
"""_ca with the real openssl CLI: a CA made and checked on the "controller" (tmp_path), requests
from _tls signed for the signer's names, name constraints as RFC 5280 reads them, and signing and
CA creation from many processes at once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _ca, _tls

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
NAMES = ["nb1.lab.example.org", "localhost", "127.0.0.1", "::1"]


@pytest.fixture
def openssl_arguments(monkeypatch):
    """Every argument list _ca gives subprocess.run, as the calls go on."""
    seen = []
    real = subprocess.run

    def spy(args, *a, **kw):
        seen.append(list(args))
        return real(args, *a, **kw)  # pylint: disable=subprocess-run-check

    monkeypatch.setattr(_ca.subprocess, "run", spy)
    return seen


def make_ca(tmp_path, passphrase=None, constraints=(), key_type="ecdsa"):
    cert, key = str(tmp_path / "ca" / "ca.pem"), str(tmp_path / "ca" / "ca.key")
    made, ca = _ca.ensure(cert, key, passphrase, key_type=key_type, rsa_bits=3072, common_name="test CA", days=400,
                          name_constraints=list(constraints))
    assert made
    return cert, key, ca


def request(tmp_path, name="tls"):
    directory = tmp_path / name
    directory.mkdir(exist_ok=True)
    return str(directory), _tls.make_request(str(directory), "nb1.lab.example.org", "ecdsa", 3072)


def verify(ca_cert, chain, tmp_path, hostname=None):
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(_tls.pem_blocks(chain, "CERTIFICATE").split("-----END CERTIFICATE-----", maxsplit=1)[0] + "-----END CERTIFICATE-----\n")
    args = ["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", ca_cert]
    if hostname:
        args += ["-verify_hostname", hostname]
    return subprocess.run([*args, str(leaf)], capture_output=True, text=True, check=False)


def test_a_made_ca_is_private_encrypted_and_checked_again_unchanged(tmp_path):
    cert, key, ca = make_ca(tmp_path, passphrase="correct horse")
    assert os.stat(key).st_mode & 0o777 == 0o600 and os.stat(tmp_path / "ca").st_mode & 0o777 == 0o700
    assert open(key, encoding="ascii").read().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"], capture_output=True, text=True, check=True).stdout
    assert "CA:TRUE" in text and "Certificate Sign" in text and "ASN1 OID: prime256v1" in text
    before = open(cert, "rb").read(), open(key, "rb").read()
    made, again = _ca.ensure(cert, key, "correct horse", key_type="rsa", rsa_bits=4096, common_name="other", days=1,
                             name_constraints=[])
    assert not made and again["fingerprint_sha256"] == ca["fingerprint_sha256"]
    assert (open(cert, "rb").read(), open(key, "rb").read()) == before


def test_the_passphrase_never_reaches_openssls_arguments(tmp_path, openssl_arguments):
    seen = openssl_arguments
    cert, key, ca = make_ca(tmp_path, passphrase="s3cret-in-a-vault")
    directory, csr = request(tmp_path)
    _ca.sign(ca, key, "s3cret-in-a-vault", csr, NAMES, "nb1", 30)
    assert seen and not any("s3cret" in arg for args in seen for arg in args)
    assert any(arg.startswith("fd:") for args in seen for arg in args)


@pytest.mark.parametrize("case, message", [
    ("key missing", "notebook_tls_ca_key: "),
    ("cert missing", "notebook_tls_ca_cert: "),
    ("wrong passphrase", "notebook_tls_ca_key_passphrase does not open"),
    ("no passphrase", "set notebook_tls_ca_key_passphrase"),
    ("not a CA", "is not a CA certificate"),
    ("other key", "is not the key of notebook_tls_ca_cert"),
    ("readable key", "chmod 0600"),
])
def test_bad_ca_files_are_refused_naming_the_variable_and_left_alone(tmp_path, case, message):
    cert, key, _ca_info = make_ca(tmp_path, passphrase="pw")
    passphrase = {"wrong passphrase": "nope", "no passphrase": None}.get(case, "pw")
    if case == "key missing":
        os.unlink(key)
    elif case == "cert missing":
        os.unlink(cert)
    elif case == "not a CA":
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-passout", "pass:pw",
                        "-keyout", key, "-out", cert, "-subj", "/CN=leaf", "-addext", "basicConstraints=CA:FALSE"],
                       capture_output=True, check=True)
    elif case == "other key":
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc",
                        "-pass", "pass:pw", "-out", key], capture_output=True, check=True)
    elif case == "readable key":
        os.chmod(key, 0o644)
    listing = sorted(os.listdir(tmp_path / "ca"))
    contents = {name: open(tmp_path / "ca" / name, "rb").read() for name in listing}
    with pytest.raises(_ca.CAError, match=message):
        _ca.ensure(cert, key, passphrase, key_type="ecdsa", rsa_bits=3072, common_name="x", days=400, name_constraints=[])
    assert sorted(os.listdir(tmp_path / "ca")) == listing
    assert {name: open(tmp_path / "ca" / name, "rb").read() for name in listing} == contents


def test_check_mode_makes_nothing(tmp_path):
    made, info = _ca.ensure(str(tmp_path / "ca" / "ca.pem"), str(tmp_path / "ca" / "ca.key"), None, key_type="ecdsa",
                            rsa_bits=3072, common_name="x", days=400, name_constraints=[], check_mode=True)
    assert made and info == {} and not (tmp_path / "ca").exists()


def test_a_request_is_signed_for_the_signers_names_and_put_live_with_the_hosts_key(tmp_path):
    cert, key, ca = make_ca(tmp_path)
    directory, csr = request(tmp_path)
    key_before = open(os.path.join(directory, "request", "key.pem"), encoding="ascii").read()
    chain = _ca.sign(ca, key, None, csr, NAMES, "nb1.lab.example.org", 200)
    assert chain.count("BEGIN CERTIFICATE") == 2 and chain.endswith(ca["pem"])
    assert verify(cert, chain, tmp_path, "nb1.lab.example.org").returncode == 0
    assert verify(cert, chain, tmp_path, "evil.example.org").returncode != 0
    _tls.install_signed(directory, chain, os.getgid())
    assert not os.path.exists(os.path.join(directory, "request"))
    assert open(os.path.join(directory, "live", "key.pem"), encoding="ascii").read() == key_before
    found = _tls.inspect(os.path.join(directory, "live", "cert.pem"), os.path.join(directory, "live", "key.pem"), 0)
    assert found["state"] == "valid" and not found["self_issued"] and found["chain_fingerprints"][1] == ca["fingerprint_sha256"]
    assert _tls.renewal_reasons(found, NAMES, "ecdsa", 3072, 200, ca["fingerprint_sha256"]) == []
    assert _tls.renewal_reasons(found, NAMES, "ecdsa", 3072, 200, "AA:BB") == ["not issued by the CA of notebook_tls_ca_cert"]
    assert _tls.renewal_reasons(found, NAMES, "ecdsa", 3072, 200) == ["not self-signed"]
    assert 199 <= found["lifetime_days"] <= 200


def test_a_certificate_for_another_key_is_refused(tmp_path):
    cert, key, ca = make_ca(tmp_path)
    first, _csr = request(tmp_path, "one")
    _other, other_csr = request(tmp_path, "two")
    chain = _ca.sign(ca, key, None, other_csr, NAMES, "nb1", 30)
    with pytest.raises(ValueError, match="not for the key of the waiting request"):
        _tls.install_signed(first, chain, os.getgid())
    assert not os.path.exists(os.path.join(first, "live"))


def test_validity_is_cut_to_the_cas_own(tmp_path):
    cert, key = str(tmp_path / "ca.pem"), str(tmp_path / "ca.key")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "20",
                    "-keyout", key, "-out", cert, "-subj", "/CN=short CA", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign"], capture_output=True, check=True)
    os.chmod(key, 0o600)
    ca = _ca.inspect(cert, key, None)
    directory, csr = request(tmp_path)
    _tls.install_signed(directory, _ca.sign(ca, key, None, csr, NAMES, "nb1", 200), os.getgid())
    found = _tls.inspect(os.path.join(directory, "live", "cert.pem"), os.path.join(directory, "live", "key.pem"), 0)
    assert 18 <= found["lifetime_days"] <= 20


def test_name_constraints_are_written_read_back_and_enforced(tmp_path):
    constraints = ["DNS:lab.example.org", "IP:127.0.0.1/32", "IP:::1/128", "IP:10.0.0.0/8"]
    cert, key, ca = make_ca(tmp_path, constraints=constraints)
    assert ca["name_constraints"] == ["DNS:lab.example.org", "IP:127.0.0.1/32", "IP:::1/128", "IP:10.0.0.0/8"]
    parsed = _ca.parse_constraints(constraints)
    assert _ca.permitted("DNS:nb1.lab.example.org", parsed) and _ca.permitted("DNS:lab.example.org", parsed)
    assert not _ca.permitted("DNS:localhost", parsed) and not _ca.permitted("DNS:evil-lab.example.org", parsed)
    assert _ca.permitted("IP:10.1.2.3", parsed) and not _ca.permitted("IP:192.168.0.1", parsed)
    assert not _ca.permitted("DNS:lab.example.org", _ca.parse_constraints(["DNS:.lab.example.org"]))
    assert _ca.permitted("IP:192.168.0.1", _ca.parse_constraints(["DNS:lab.example.org"]))  # IPs unconstrained
    directory, csr = request(tmp_path)
    with pytest.raises(_ca.CAError, match="outside the CA's name constraints"):
        _ca.sign(ca, key, None, csr, NAMES, "nb1", 30)
    chain = _ca.sign(ca, key, None, csr, ["nb1.lab.example.org", "127.0.0.1", "::1"], "nb1.lab.example.org", 30)
    assert verify(cert, chain, tmp_path, "nb1.lab.example.org").returncode == 0
    # openssl itself enforces them: a leaf for an outside name, signed around the check, fails to verify.
    outside = _ca.sign({**ca, "name_constraints": []}, key, None, csr, ["nb1.other.org"], "nb1.other.org", 30)
    proc = verify(cert, outside, tmp_path)
    assert proc.returncode != 0 and "permitted subtree violation" in proc.stdout + proc.stderr


@pytest.mark.parametrize("bad", ["DNS:", "URI:https://x", "IP:10.0.0.1/8", "IP:nonsense", "example.org"])
def test_malformed_constraints_are_refused(bad):
    with pytest.raises(_ca.CAError, match="notebook_tls_ca_name_constraints"):
        _ca.parse_constraints([bad])


RACE = """
import json, sys, time
from ansible_collections.nbops.jupyter.plugins.module_utils import _ca, _tls
cert, key, directory, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
csr = _tls.make_request(directory, "nb", "ecdsa", 3072)
time.sleep(max(0.0, start - time.time()))
made, ca = _ca.ensure(cert, key, "pw", key_type="ecdsa", rsa_bits=3072, common_name="race CA", days=400, name_constraints=[])
print(json.dumps({"made": made, "fingerprint": ca["fingerprint_sha256"],
                  "chain": _ca.sign(ca, key, "pw", csr, ["nb", "localhost"], "nb", 30)}))
"""


def test_plays_making_and_signing_at_once_make_one_ca_and_distinct_serials(tmp_path):
    """Eight processes that all find no CA, started together: one makes it, every one signs with
    it, and no two certificates share a serial (no serial file to corrupt)."""
    cert, key = str(tmp_path / "ca" / "ca.pem"), str(tmp_path / "ca" / "ca.key")
    start = time.time() + 3
    procs = []
    for n in range(8):
        directory = tmp_path / f"host{n}"
        directory.mkdir()
        procs.append(subprocess.Popen([sys.executable, "-c", RACE, cert, key, str(directory), str(start)],
                                      stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}))
    answers = [json.loads(proc.communicate(timeout=120)[0]) for proc in procs]
    assert sum(a["made"] for a in answers) == 1
    assert len({a["fingerprint"] for a in answers}) == 1
    serials = set()
    for answer in answers:
        assert verify(cert, answer["chain"], tmp_path).returncode == 0
        serials.add(subprocess.run(["openssl", "x509", "-noout", "-serial"], input=answer["chain"], capture_output=True,
                                   text=True, check=True).stdout)
    assert len(serials) == 8
    assert sorted(os.listdir(tmp_path / "ca")) == [".nbops-ca.lock", "ca.key", "ca.pem"]


def test_device_certificates_are_issued_kept_and_a_removed_one_revoked(tmp_path):
    directory = str(tmp_path / "devices")
    first = _ca.ensure_devices(directory, ["laptop-ada", "tablet-bob"], "p12-password", 365, 30)
    assert first["issued"] == ["laptop-ada", "tablet-bob"] and first["revoked"] == [] and len(first["certificates"]) == 2
    for name in ("laptop-ada", "tablet-bob"):
        files = _ca.device_files(directory, name)
        assert os.stat(files["key"]).st_mode & 0o777 == 0o600 and os.stat(files["p12"]).st_mode & 0o777 == 0o600
        text = subprocess.run(["openssl", "x509", "-in", files["pem"], "-noout", "-text"], capture_output=True, text=True,
                              check=True).stdout
        assert "TLS Web Client Authentication" in text and "CA:FALSE" in text
        assert subprocess.run(["openssl", "pkcs12", "-in", files["p12"], "-passin", "pass:p12-password", "-nokeys", "-noout"],
                              capture_output=True, check=False).returncode == 0
    again = _ca.ensure_devices(directory, ["laptop-ada", "tablet-bob"], "p12-password", 365, 30)
    assert again["issued"] == [] and again["certificates"] == first["certificates"]
    predicted = _ca.ensure_devices(directory, ["laptop-ada"], "p12-password", 365, 30, check_mode=True)
    assert predicted == {"issued": [], "revoked": ["tablet-bob"], "certificates": first["certificates"][:1]}
    assert os.path.exists(_ca.device_files(directory, "tablet-bob")["pem"])
    removed = _ca.ensure_devices(directory, ["laptop-ada"], "p12-password", 365, 30)
    assert removed["revoked"] == ["tablet-bob"] and removed["certificates"] == first["certificates"][:1]
    assert sorted(os.listdir(os.path.join(directory, "revoked"))) == ["tablet-bob.key", "tablet-bob.p12", "tablet-bob.pem"]
    # Another password: the PKCS#12 files are made again (the old password no longer opens them).
    assert _ca.ensure_devices(directory, ["laptop-ada"], "new-password", 365, 30)["issued"] == ["laptop-ada"]


def test_the_p12_password_never_reaches_openssls_arguments(tmp_path, openssl_arguments):
    seen = openssl_arguments
    _ca.ensure_devices(str(tmp_path / "d"), ["laptop-ada"], "p12-s3cret", 365, 30)
    assert not any("p12-s3cret" in arg for args in seen for arg in args)


@pytest.mark.parametrize("names, password, message", [
    (["../escape"], "pw", "notebook_tls_clients"),
    (["ada", "ada"], "pw", "given twice"),
    (["ada"], "", "notebook_tls_client_p12_password"),
])
def test_bad_device_input_is_refused_and_nothing_is_made(tmp_path, names, password, message):
    with pytest.raises(_ca.CAError, match=message):
        _ca.ensure_devices(str(tmp_path / "d"), names, password, 365, 30)
    assert not (tmp_path / "d").exists()


def test_a_ca_in_the_same_place_is_not_taken_for_a_device(tmp_path):
    cert, key, _info = make_ca(tmp_path)
    _ca.ensure_devices(os.path.dirname(cert), [], "", 365, 30)
    assert os.path.exists(cert) and os.path.exists(key)


def test_a_ca_with_excluded_subtrees_is_refused(tmp_path):
    """Excluded subtrees would be read as permitted by a simple reading; such a CA is refused."""
    cert, key = str(tmp_path / "ca.pem"), str(tmp_path / "ca.key")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "30",
                    "-keyout", key, "-out", cert, "-subj", "/CN=excluding CA", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign",
                    "-addext", "nameConstraints=critical,permitted;DNS:lab.example.org,excluded;DNS:secret.lab.example.org"],
                   capture_output=True, check=True)
    os.chmod(key, 0o600)
    with pytest.raises(_ca.CAError, match="excluded name constraints"):
        _ca.inspect(cert, key, None)
