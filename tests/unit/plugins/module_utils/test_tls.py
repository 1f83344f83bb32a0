# SPDX-License-Identifier: GPL-3.0-or-later
"""_tls: fingerprints, inspection and renewal reasons of real keys and certificates made here with
the openssl CLI, and self-signed generations made live through the ``live`` symlink."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import ssl
import stat
import subprocess

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _san, _tls

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to root and another group needs root")
EC = ("ec", "-pkeyopt", "ec_paramgen_curve:P-256")
NAMES = ["nb.example.org", "localhost", "127.0.0.1", "::1"]


def make_cert(directory, key_spec=EC, days=30, san="DNS:nb.example.org,DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1"):
    """A key and self-signed certificate made with openssl directly (not with the code under test)."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", *key_spec, "-days", str(days), "-subj", "/CN=nb",
                    "-keyout", directory / "key.pem", "-out", directory / "cert.pem", "-addext", f"subjectAltName={san}"],
                   check=True, capture_output=True)
    return str(directory / "cert.pem"), str(directory / "key.pem")


def openssl_text(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


def owned(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def handshake(cert, key, hostname):
    """A TLS handshake in memory: the server presents cert/key, the client trusts only that
    certificate, verifies strictly and checks ``hostname``. Returns the protocol version."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=cert)
    client_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    to_server, from_client, to_client, from_server = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(to_client, from_client, server_hostname=hostname)
    server = server_ctx.wrap_bio(to_server, from_server, server_side=True)
    pending = [client, server]
    for _round in range(20):
        for side in list(pending):
            try:
                side.do_handshake()
                pending.remove(side)
            except ssl.SSLWantReadError:
                pass
        to_server.write(from_client.read())
        to_client.write(from_server.read())
        if not pending:
            return client.version()
    raise AssertionError("the handshake did not finish")


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Key/certificate pairs shared by the read-only tests."""
    base = tmp_path_factory.mktemp("pairs")
    return {
        "ec": make_cert(base / "ec"),
        "other": make_cert(base / "other"),
        "rsa": make_cert(base / "rsa", key_spec=("rsa:2048",)),
    }


def test_fingerprint_is_the_sha256_of_the_der_as_openssl_prints_it(pairs):
    """fingerprint() equals sha256 of `openssl x509 -outform DER`, upper-case pairs joined by ':'."""
    cert = pairs["ec"][0]
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout
    digest = hashlib.sha256(der).hexdigest().upper()
    expected = ":".join(digest[i:i + 2] for i in range(0, 64, 2))
    assert _tls.fingerprint(cert) == expected
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", expected)
    # openssl's own fingerprint agrees.
    assert openssl_text("x509", "-in", cert, "-noout", "-fingerprint", "-sha256").strip().endswith("=" + expected)


def test_fingerprint_of_a_chain_is_the_first_certificate_and_no_pem_is_an_error(pairs, tmp_path):
    """In a chain file the first certificate counts; a file without a certificate raises ValueError."""
    chain = tmp_path / "chain.pem"
    chain.write_text("leading text\n" + open(pairs["ec"][0], encoding="ascii").read() + open(pairs["rsa"][0], encoding="ascii").read())
    assert _tls.fingerprint(str(chain)) == _tls.fingerprint(pairs["ec"][0]) != _tls.fingerprint(pairs["rsa"][0])
    with pytest.raises(ValueError, match="holds no PEM certificate"):
        _tls.fingerprint(pairs["ec"][1])


def test_inspect_a_valid_pair_reports_key_names_expiry_and_fingerprint(pairs):
    """A matching pair far from expiry is valid; names are normalized like entries_from_names."""
    cert, key = pairs["ec"]
    found = _tls.inspect(cert, key, 86400)
    assert found["state"] == "valid"
    assert (found["key_type"], found["key_bits"]) == ("ecdsa", 256)
    assert found["names"] == _san.entries_from_names(NAMES) == ["DNS:localhost", "DNS:nb.example.org", "IP:127.0.0.1", "IP:::1"]
    assert found["not_after"] == openssl_text("x509", "-in", cert, "-noout", "-enddate").strip().partition("=")[2]
    assert found["fingerprint_sha256"] == _tls.fingerprint(cert)


def test_inspect_normalizes_upper_case_dns_names_and_expanded_ipv6(tmp_path):
    """openssl prints DNS names as written and IPv6 expanded; inspect() gives the normal form."""
    cert, key = make_cert(tmp_path, san="DNS:NB.Example.ORG,IP:2001:DB8:0:0:0:0:0:1,IP:0:0:0:0:0:0:0:1")
    names = _tls.inspect(cert, key, 0)["names"]
    assert names == _san.entries_from_names(["nb.example.org", "2001:db8::1", "::1"]) == ["DNS:nb.example.org", "IP:2001:db8::1", "IP:::1"]


def test_inspect_names_the_state_of_a_broken_pair(pairs, tmp_path, monkeypatch):
    """missing (absent or empty file), mismatch (another key), expiring (within renew_seconds), unreadable (no openssl)."""
    cert, key = pairs["ec"]
    assert _tls.inspect(str(tmp_path / "none.pem"), key, 0) == {"state": "missing"}
    assert _tls.inspect(cert, str(tmp_path / "none.pem"), 0) == {"state": "missing"}
    empty = tmp_path / "empty.pem"
    empty.touch()
    assert _tls.inspect(cert, str(empty), 0) == {"state": "missing"}
    assert _tls.inspect(cert, pairs["other"][1], 0) == {"state": "mismatch"}
    assert _tls.inspect(cert, pairs["rsa"][1], 0) == {"state": "mismatch"}
    # Made for 30 days: expiring with a 60-day window, valid with a 29-day one.
    assert _tls.inspect(cert, key, 60 * 86400)["state"] == "expiring"
    assert _tls.inspect(cert, key, 29 * 86400)["state"] == "valid"
    monkeypatch.setattr(_tls.shutil, "which", lambda name: None)
    assert _tls.inspect(cert, key, 0) == {"state": "unreadable"}


def test_inspect_an_rsa_key_reports_its_type_and_size(pairs):
    """An RSA key is reported as rsa with its bit count."""
    found = _tls.inspect(*pairs["rsa"], 0)
    assert (found["state"], found["key_type"], found["key_bits"]) == ("valid", "rsa", 2048)


@pytest.mark.parametrize(("pair", "renew_days", "names", "key_type", "rsa_bits", "reasons"), [
    ("ec", 1, NAMES, "ecdsa", 3072, []),
    # Another order, another case, a trailing dot, an expanded address: the same set.
    ("ec", 1, ["0:0::1", "LOCALHOST", "127.0.0.1", "NB.example.org.", "localhost"], "ecdsa", 2048, []),
    ("ec", 1, NAMES + ["nb2.example.org"], "ecdsa", 3072, ["names changed"]),
    ("ec", 1, ["nb.example.org", "localhost", "127.0.0.1"], "ecdsa", 3072, ["names changed"]),
    ("ec", 1, NAMES, "rsa", 3072, ["key type changed"]),
    ("rsa", 1, NAMES, "rsa", 2048, []),
    ("rsa", 1, NAMES, "rsa", 3072, ["key type changed"]),
    ("rsa", 1, NAMES, "ecdsa", 3072, ["key type changed"]),
    ("ec", 60, NAMES, "ecdsa", 3072, ["expires within notebook_tls_renew_days"]),
    ("ec", 60, ["other.example.org"], "rsa", 3072, ["expires within notebook_tls_renew_days", "names changed", "key type changed"]),
])
def test_renewal_reasons_of_a_readable_pair(pairs, pair, renew_days, names, key_type, rsa_bits, reasons):
    """Names, key type and size and expiry each give their reason; nothing that changed gives []."""
    found = _tls.inspect(*pairs[pair], renew_days * 86400)
    assert _tls.renewal_reasons(found, names, key_type, rsa_bits) == reasons


def test_renewal_reasons_of_a_missing_or_mismatched_pair(pairs, tmp_path):
    """A missing or mismatched pair is made again whatever the names."""
    missing = _tls.inspect(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"), 0)
    assert _tls.renewal_reasons(missing, NAMES, "ecdsa", 3072) == ["certificate or key missing"]
    mismatch = _tls.inspect(pairs["ec"][0], pairs["other"][1], 0)
    assert _tls.renewal_reasons(mismatch, NAMES, "ecdsa", 3072) == ["key does not match certificate"]
    assert _tls.renewal_reasons({"state": "unreadable"}, NAMES, "ecdsa", 3072) == ["openssl was missing when it was inspected"]


@pytest.fixture
def tls_dir(tmp_path):
    """The root-owned 0750 TLS directory the role makes."""
    directory = tmp_path / "tls"
    directory.mkdir()
    os.chmod(directory, 0o750)
    return directory


def generations(directory):
    return sorted(path.name for path in directory.glob("gen-*"))


@as_root
def test_make_self_signed_modes_owners_and_the_live_link(tls_dir):
    """key 0640 root:gid, cert 0644 root:gid, generation 0750 root:gid; live points at the new
    generation and older ones (and temporary links) are gone."""
    gid = 65534
    old = tls_dir / "gen-20000101T000000-deadbeef"
    old.mkdir()
    (old / "key.pem").write_text("old")
    first = _tls.make_self_signed(str(tls_dir), NAMES, "nb.example.org", "ecdsa", 3072, 10, gid)
    assert os.path.dirname(first) == str(tls_dir) and os.path.basename(first).startswith("gen-")
    assert owned(first) == (0, gid, 0o750)
    assert owned(os.path.join(first, "key.pem")) == (0, gid, 0o640)
    assert owned(os.path.join(first, "cert.pem")) == (0, gid, 0o644)
    assert os.readlink(tls_dir / "live") == os.path.basename(first)
    assert generations(tls_dir) == [os.path.basename(first)]
    second = _tls.make_self_signed(str(tls_dir), NAMES, "nb.example.org", "ecdsa", 3072, 10, gid)
    assert second != first and os.readlink(tls_dir / "live") == os.path.basename(second)
    assert generations(tls_dir) == [os.path.basename(second)]
    assert sorted(os.listdir(tls_dir)) == [os.path.basename(second), "live"]
    assert _tls.inspect(str(tls_dir / "live" / "cert.pem"), str(tls_dir / "live" / "key.pem"), 0)["state"] == "valid"


@as_root
def test_the_certificate_verifies_strictly_as_its_own_trust_anchor(tls_dir):
    """Python's ssl with VERIFY_X509_STRICT accepts it for 127.0.0.1 and ::1, and refuses a name it does not carry."""
    _tls.make_self_signed(str(tls_dir), NAMES, "nb.example.org", "ecdsa", 3072, 10, 0)
    cert, key = str(tls_dir / "live" / "cert.pem"), str(tls_dir / "live" / "key.pem")
    assert handshake(cert, key, "127.0.0.1") in ("TLSv1.2", "TLSv1.3")
    assert handshake(cert, key, "::1") in ("TLSv1.2", "TLSv1.3")
    assert handshake(cert, key, "nb.example.org") in ("TLSv1.2", "TLSv1.3")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(cert, key, "10.0.0.1")


@as_root
def test_the_certificate_carries_server_auth_ca_false_key_usage_and_the_san(tls_dir):
    """The extensions strict verification and browsers want, and the names normalized."""
    _tls.make_self_signed(str(tls_dir), ["NB.Example.org", "127.0.0.1", "0:0::1"], "nb.example.org", "ecdsa", 3072, 10, 0)
    cert = str(tls_dir / "live" / "cert.pem")
    text = openssl_text("x509", "-in", cert, "-noout", "-ext", "extendedKeyUsage,basicConstraints,keyUsage,subjectAltName")
    assert "TLS Web Server Authentication" in text
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text)
    assert re.search(r"Key Usage: critical\s+Digital Signature\n", text)
    found = _tls.inspect(cert, str(tls_dir / "live" / "key.pem"), 0)
    assert found["names"] == ["DNS:nb.example.org", "IP:127.0.0.1", "IP:::1"]
    assert "CN = nb.example.org" in openssl_text("x509", "-in", cert, "-noout", "-subject")
    # Valid for the 10 days asked: not expiring within 9 days, expiring within 11.
    assert "will not expire" in openssl_text("x509", "-in", cert, "-noout", "-checkend", str(9 * 86400))
    later = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-checkend", str(11 * 86400)], capture_output=True, check=False)
    assert later.returncode == 1


@as_root
def test_an_rsa_key_has_the_requested_bits(tls_dir):
    """key_type rsa makes an RSA key of rsa_bits, with keyEncipherment allowed."""
    generation = _tls.make_self_signed(str(tls_dir), NAMES, "nb", "rsa", 2048, 10, 0)
    found = _tls.inspect(os.path.join(generation, "cert.pem"), os.path.join(generation, "key.pem"), 0)
    assert (found["key_type"], found["key_bits"]) == ("rsa", 2048)
    assert _tls.renewal_reasons(found, NAMES, "rsa", 2048) == []
    assert "Key Encipherment" in openssl_text("x509", "-in", os.path.join(generation, "cert.pem"), "-noout", "-ext", "keyUsage")
    assert "Private-Key: (2048 bit" in openssl_text("pkey", "-in", os.path.join(generation, "key.pem"), "-noout", "-text")


@as_root
def test_a_failed_openssl_leaves_no_generation_and_keeps_live(tls_dir):
    """openssl refusing the request is a RuntimeError; the live generation stays, no new one is left."""
    live = _tls.make_self_signed(str(tls_dir), NAMES, "nb", "ecdsa", 3072, 10, 0)
    with pytest.raises(RuntimeError, match="openssl req failed"):
        _tls.make_self_signed(str(tls_dir), NAMES, "nb", "rsa", 1, 10, 0)
    assert generations(tls_dir) == [os.path.basename(live)]
    assert os.readlink(tls_dir / "live") == os.path.basename(live)


@as_root
def test_an_invalid_name_leaves_no_generation(tls_dir):
    """A name that is neither a DNS name nor an address is a ValueError and leaves nothing behind."""
    with pytest.raises(ValueError, match="neither an IP address nor a DNS name"):
        _tls.make_self_signed(str(tls_dir), ["not a name!"], "nb", "ecdsa", 3072, 10, 0)
    assert generations(tls_dir) == []
