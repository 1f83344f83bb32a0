# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""The server's certificate: inspected and made with the openssl CLI on the host (the key never
leaves it), swapped in atomically.

One function decides whether a certificate is made again (``renewal_reasons``) and one computes
a fingerprint (``fingerprint``); the host reader and the certificate module both use them.
subjectAltNames are compared in the normal form of ``_san``, the same code as the
``subject_alt_names`` filter.

Generations live in ``<dir>/gen-*``; ``<dir>/live`` is a symlink to the current one, replaced by
``rename(2)``. The server reads key and certificate on each new connection, so it never sees a
key from one generation and a certificate from another, and needs no restart.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import os
import re
import secrets
import shutil
import ssl
import subprocess

from ._digest import sha256_of
from ._san import entries_from_names, entries_from_openssl

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def _openssl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=False)


def fingerprint(cert: str) -> str:
    """SHA-256 of the (first) certificate in a PEM file, as openssl and browsers show it: AB:CD:..."""
    with open(cert, encoding="ascii") as fh:
        match = _PEM.search(fh.read())
    if not match:
        raise ValueError(f"{cert} holds no PEM certificate")
    return _der_fingerprint(ssl.PEM_cert_to_DER_cert(match.group(0)))


_PUBKEY = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


def inspect(cert: str, key: str, renew_seconds: int) -> dict:
    """What is deployed: state missing | unreadable | mismatch | expiring | valid, and for a
    readable pair its key type and size, names, expiry and fingerprint. Two openssl runs: one
    reads everything the certificate says, one the key's public half."""
    if not all(os.path.isfile(path) and os.path.getsize(path) for path in (cert, key)):
        return {"state": "missing"}
    if shutil.which("openssl") is None:
        return {"state": "unreadable"}
    about = _openssl("x509", "-in", cert, "-noout", "-pubkey", "-startdate", "-enddate", "-ext", "subjectAltName",
                     "-issuer", "-subject", "-nameopt", "RFC2253", "-checkend", str(renew_seconds)).stdout
    keytext = _openssl("pkey", "-in", key, "-pubout", "-text_pub", "-passin", "pass:").stdout
    cert_pub, key_pub = _PUBKEY.search(about), _PUBKEY.search(keytext)
    if not cert_pub or not key_pub or cert_pub.group(0) != key_pub.group(0):
        return {"state": "mismatch"}
    dates = dict(line.split("=", 1) for line in about.splitlines() if line.startswith(("notBefore=", "notAfter=")))
    end = dates.get("notAfter", "")
    san = about.split("X509v3 Subject Alternative Name:", 1)[1] if "X509v3 Subject Alternative Name:" in about else ""
    san = "\n".join(line for line in san.splitlines() if line.startswith(" "))
    bits = re.search(r"\((\d+) bit", keytext)
    dn = dict(line.split("=", 1) for line in about.splitlines() if line.startswith(("issuer=", "subject=")))
    return {
        "state": "expiring" if "Certificate will expire" in about else "valid",
        "key_type": "ecdsa" if "ASN1 OID: prime256v1" in keytext else "rsa",
        "key_bits": int(bits.group(1)) if bits else 0,
        "names": entries_from_openssl(san),
        "not_after": end,
        "lifetime_days": _days_between(dates.get("notBefore", ""), end),
        "fingerprint_sha256": fingerprint(cert),
        "file_sha256": file_sha256(cert),
        "self_issued": dn.get("issuer") == dn.get("subject"),
        # The leaf's first, then the chain's: a private CA's certificate is among them.
        "chain_fingerprints": chain_fingerprints(cert),
    }


def chain_fingerprints(cert: str) -> list[str]:
    """SHA-256 fingerprints of every certificate in a PEM file, in order."""
    with open(cert, encoding="ascii") as fh:
        return [_der_fingerprint(ssl.PEM_cert_to_DER_cert(block)) for block in _PEM.findall(fh.read())]


def _der_fingerprint(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def file_sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return sha256_of(fh)


def openssl_time(value: str) -> datetime.datetime | None:
    """A date as openssl prints it ("Dec  1 05:28:12 2026 GMT"), in UTC; None if unreadable."""
    try:
        return datetime.datetime.strptime(" ".join(value.split()), "%b %d %H:%M:%S %Y %Z")
    except ValueError:
        return None


def _days_between(start: str, end: str) -> int:
    """Days from openssl's notBefore to its notAfter; 0 if unreadable."""
    parsed = [openssl_time(value) for value in (start, end)]
    return (parsed[1] - parsed[0]).days if None not in parsed else 0


def renewal_reasons(found: dict, names: list[str], key_type: str, rsa_bits: int, valid_days: int | None = None,
                    ca_fingerprint: str | None = None, any_issuer: bool = False) -> list[str]:
    """Why the role's certificate must be made again; empty when the deployed one will do.
    Without ``ca_fingerprint`` it must be self-signed; with it, issued by that CA (whose
    certificate the live chain carries); with ``any_issuer`` (ACME), either."""
    state = found["state"]
    reasons = {
        "missing": ["certificate or key missing"],
        "mismatch": ["key does not match certificate"],
        "unreadable": ["openssl was missing when it was inspected"],
        "expiring": ["expires within notebook_tls_renew_days"],
    }.get(state, [])
    if state in ("valid", "expiring"):
        if found["names"] != entries_from_names(names):
            reasons.append("names changed")
        if found["key_type"] != key_type or (key_type == "rsa" and found["key_bits"] != rsa_bits):
            reasons.append("key type changed")
        if valid_days is not None and found.get("lifetime_days", 0) > valid_days:
            reasons.append("lives longer than notebook_tls_valid_days")
        if any_issuer:
            return reasons
        if ca_fingerprint is None and found.get("self_issued") is False:
            reasons.append("not self-signed")
        if ca_fingerprint is not None and ca_fingerprint.upper() not in found.get("chain_fingerprints", [])[1:]:
            reasons.append("not issued by the CA of notebook_tls_ca_cert")
    return reasons


def keeps_key(reasons: list[str]) -> bool:
    """A change of names alone keeps the key (and so a pin of it); anything else makes a new one."""
    return reasons == ["names changed"]


def make_self_signed(directory: str, names: list[str], common_name: str, key_type: str, rsa_bits: int,
                     days: int, gid: int, reuse_key: str | None = None) -> str:
    """Make a key (or take ``reuse_key``'s) and a self-signed certificate in a new generation
    and make it live. Returns the new generation's path. The caller holds the role's lock for
    this directory."""
    usage = "digitalSignature,keyEncipherment" if key_type == "rsa" else "digitalSignature"
    # Before anything is made: a bad name is an error that leaves nothing behind.
    san = "subjectAltName=" + ",".join(entries_from_names(names))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    generation = os.path.join(directory, f"gen-{stamp}-{secrets.token_hex(4)}")
    old_umask = os.umask(0o077)
    try:
        os.mkdir(generation, 0o700)
        keyargs = _key_in(os.path.join(generation, "key.pem"), key_type, rsa_bits, reuse_key)
        proc = _openssl(
            "req", "-x509", "-nodes", "-sha256", *keyargs,
            "-out", os.path.join(generation, "cert.pem"),
            "-days", str(days), "-subj", "/CN=" + common_name[:64].replace("/", "\\/"),
            "-addext", san,
            "-addext", "extendedKeyUsage=serverAuth",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", f"keyUsage=critical,{usage}",
        )
        if proc.returncode != 0:
            raise RuntimeError(f"openssl req failed: {proc.stderr.strip()[-500:]}")
        for path, mode in ((generation, 0o750), (os.path.join(generation, "key.pem"), 0o640),
                           (os.path.join(generation, "cert.pem"), 0o644)):
            os.chown(path, 0, gid)
            os.chmod(path, mode)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    finally:
        os.umask(old_umask)
    swap_live(directory, os.path.basename(generation))
    return generation


def install_provided(directory: str, certificate: str, private_key: str, gid: int) -> str:
    """Put a certificate chain and its key (PEM text, from the controller) live together, in a
    new generation. Returns the generation made. The caller holds the role's lock."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    generation = os.path.join(directory, f"gen-{stamp}-{secrets.token_hex(4)}")
    old_umask = os.umask(0o077)
    try:
        os.mkdir(generation, 0o700)
        for name, text, mode in (("key.pem", private_key, 0o640), ("cert.pem", certificate, 0o644)):
            path = os.path.join(generation, name)
            with open(path, "x", encoding="ascii") as fh:
                fh.write(text)
            os.chown(path, 0, gid)
            os.chmod(path, mode)
        os.chown(generation, 0, gid)
        os.chmod(generation, 0o750)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    finally:
        os.umask(old_umask)
    swap_live(directory, os.path.basename(generation))
    return generation


def pem_blocks(text: str, kind: str) -> str:
    """The PEM blocks of one kind in ``text`` ("CERTIFICATE", or "PRIVATE KEY" for any key), in order."""
    pattern = r"-----BEGIN ((?:[A-Z]+ )?PRIVATE KEY)-----.+?-----END \1-----" if kind == "PRIVATE KEY" else \
        r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----"
    return "".join(match.group(0) + "\n" for match in re.finditer(pattern, text, re.S))


def swap_live(directory: str, generation: str) -> None:
    """Point <dir>/live at a generation in one rename, then remove the other generations."""
    link = os.path.join(directory, f".live.{secrets.token_hex(6)}")
    os.symlink(generation, link)
    os.replace(link, os.path.join(directory, "live"))
    for old in glob.glob(os.path.join(directory, "gen-*")):
        if os.path.basename(old) != generation:
            shutil.rmtree(old, ignore_errors=True)


def _key_args(key_type: str, rsa_bits: int) -> list[str]:
    return ["-newkey", f"rsa:{rsa_bits}"] if key_type == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


def _key_in(key: str, key_type: str, rsa_bits: int, reuse_key: str | None) -> list[str]:
    """openssl req's key arguments for ``key``: a copy of ``reuse_key`` (a change of names alone
    keeps the key), or a new key of the type asked for, written there by openssl."""
    if not reuse_key:
        return [*_key_args(key_type, rsa_bits), "-keyout", key]
    with open(reuse_key, "rb") as source, open(key, "xb") as copy:
        copy.write(source.read())
    return ["-key", key]


def make_client_pair(key: str, cert: str, common_name: str, days: int) -> None:
    """An ECDSA key and a self-signed client certificate (clientAuth, CA:FALSE) at ``key`` and
    ``cert``: a device's, or the host's own for the health gate. Each is its own trust anchor."""
    proc = _openssl("req", "-x509", "-nodes", "-sha256", *_key_args("ecdsa", 0), "-keyout", key, "-out", cert,
                    "-days", str(days), "-subj", "/CN=" + common_name[:64].replace("/", "\\/"),
                    "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature",
                    "-addext", "extendedKeyUsage=clientAuth", "-addext", "subjectKeyIdentifier=hash")
    if proc.returncode != 0:
        raise RuntimeError(f"openssl req -x509 failed: {proc.stderr.strip()[-300:]}")


def make_request(directory: str, common_name: str, key_type: str, rsa_bits: int, reuse_key: str | None = None) -> str:
    """A key for the next certificate (or a copy of ``reuse_key``) in ``<dir>/request/key.pem``
    and a certificate signing request for it, returned as PEM. Only the request leaves the host:
    the names it asks for are decided by the signer. A request left by an earlier run is replaced.
    The caller holds the role's lock."""
    request = os.path.join(directory, "request")
    shutil.rmtree(request, ignore_errors=True)
    old_umask = os.umask(0o077)
    try:
        os.mkdir(request, 0o700)
        keyargs = _key_in(os.path.join(request, "key.pem"), key_type, rsa_bits, reuse_key)
        proc = _openssl("req", "-new", "-nodes", "-sha256", *keyargs,
                        "-subj", "/CN=" + common_name[:64].replace("/", "\\/"))
        if proc.returncode != 0 or "BEGIN CERTIFICATE REQUEST" not in proc.stdout:
            raise RuntimeError(f"openssl req -new failed: {proc.stderr.strip()[-500:]}")
    except BaseException:
        shutil.rmtree(request, ignore_errors=True)
        raise
    finally:
        os.umask(old_umask)
    return proc.stdout


def install_signed(directory: str, certificate: str, gid: int) -> str:
    """Put a certificate chain signed for ``<dir>/request/key.pem`` live with that key, in a new
    generation, and drop the request. Refused when the certificate is not for that key."""
    key = os.path.join(directory, "request", "key.pem")
    if not os.path.isfile(key):
        raise ValueError(f"{key} is missing: no request is waiting for this certificate")
    cert_pub = _PUBKEY.search(_openssl("x509", "-noout", "-pubkey", stdin=certificate).stdout)
    key_pub = _PUBKEY.search(_openssl("pkey", "-in", key, "-pubout").stdout)
    if not cert_pub or not key_pub or cert_pub.group(0) != key_pub.group(0):
        raise ValueError("the signed certificate is not for the key of the waiting request")
    with open(key, encoding="ascii") as fh:
        private_key = fh.read()
    generation = install_provided(directory, certificate, private_key, gid)
    shutil.rmtree(os.path.join(directory, "request"), ignore_errors=True)
    return generation


def inspect_client(directory: str, renew_seconds: int) -> dict:
    """The host's own client certificate in ``directory`` (the health gate's, under mutual TLS):
    its state as ``inspect`` gives it, and the certificate (public) when one is there."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    found = inspect(cert, key, renew_seconds)
    answer = {"state": found["state"], "pem": ""}
    if found["state"] in ("valid", "expiring"):
        with open(cert, encoding="ascii") as fh:
            answer["pem"] = fh.read()
    return answer


def make_client(directory: str, common_name: str, days: int) -> str:
    """A root-only key and a self-signed client certificate (clientAuth) in ``directory``,
    replacing what is there; returns the certificate. The server trusts it as one more device:
    the health gate on the host presents it."""
    old_umask = os.umask(0o077)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chown(directory, 0, 0)
        os.chmod(directory, 0o700)
        stamp = secrets.token_hex(4)
        key, cert = os.path.join(directory, f".key.{stamp}"), os.path.join(directory, f".cert.{stamp}")
        make_client_pair(key, cert, common_name, days)
        os.chmod(cert, 0o644)
        os.replace(key, os.path.join(directory, "key.pem"))
        os.replace(cert, os.path.join(directory, "cert.pem"))
    finally:
        os.umask(old_umask)
    with open(os.path.join(directory, "cert.pem"), encoding="ascii") as fh:
        return fh.read()
