# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""A private certificate authority kept on the controller, with the openssl CLI.

The CA's key never leaves the controller and the hosts' keys never reach it: a host sends a
certificate signing request, and the signer decides the names the certificate carries.

There is no serial file and no index: every certificate gets a random 127-bit serial (as
RFC 5280 and the CA/Browser Forum ask for at least 64 bits of randomness), so any number of
converges may sign at once without a shared file to corrupt. Making the CA takes a lock beside
its key, so two plays that both find none make one.

The key's passphrase reaches openssl through a pipe (``-passin fd:N``), never through its
arguments or environment.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import datetime
import fcntl
import ipaddress
import os
import re
import secrets
import ssl
import subprocess
import tempfile

from ._san import entries_from_names
from . import _tls
from ._tls import _PEM, _PUBKEY, _der_fingerprint


class CAError(ValueError):
    """Bad CA input; the message names the variable."""


def _run(args: list[str], passphrase: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """openssl with the passphrase on a pipe: ``{pass}`` in ``args`` becomes ``fd:N``."""
    if "{pass}" not in args:
        return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=False)
    read, write = os.pipe()
    try:
        os.write(write, (passphrase or "").encode() + b"\n")
        os.close(write)
        write = -1
        args = [f"fd:{read}" if arg == "{pass}" else arg for arg in args]
        return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=False,
                              pass_fds=(read,))
    finally:
        os.close(read)
        if write != -1:
            os.close(write)


def parse_constraints(constraints: list[str]) -> list[tuple[str, str]]:
    """``DNS:example.org`` / ``DNS:.example.org`` / ``IP:10.0.0.0/8`` (also an IPv6 network), as
    (kind, value) with networks in normal form; anything else is refused."""
    parsed = []
    for item in constraints:
        kind, _sep, value = item.partition(":")
        kind = kind.strip().upper()
        value = value.strip()
        if kind == "DNS" and re.fullmatch(r"\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", value):
            parsed.append(("DNS", value.lower()))
        elif kind == "IP":
            try:
                parsed.append(("IP", str(ipaddress.ip_network(value, strict=True))))
            except ValueError as exc:
                raise CAError(f"notebook_tls_ca_name_constraints: {item!r} is not an IP network ({exc})") from None
        else:
            raise CAError(f"notebook_tls_ca_name_constraints: {item!r} is neither DNS:<domain> nor IP:<network>")
    return parsed


def permitted(entry: str, constraints: list[tuple[str, str]]) -> bool:
    """Whether a subjectAltName entry (``DNS:x`` / ``IP:x``) is inside the constraints, as
    RFC 5280 reads them: a kind without constraints is not constrained; a domain permits itself
    and its subdomains, a domain with a leading dot only its subdomains."""
    kind, _sep, value = entry.partition(":")
    mine = [c for k, c in constraints if k == kind]
    if not mine:
        return True
    if kind == "DNS":
        value = value.lower()
        return any(value.endswith(c) if c.startswith(".") else value == c or value.endswith("." + c) for c in mine)
    address = ipaddress.ip_address(value)
    return any(address in ipaddress.ip_network(c) for c in mine)


def _openssl_constraints(constraints: list[tuple[str, str]]) -> str:
    items = []
    for kind, value in constraints:
        if kind == "IP":
            network = ipaddress.ip_network(value)
            value = f"{network.network_address}/{network.netmask}"
        items.append(f"permitted;{kind}:{value}")
    return "nameConstraints=critical," + ",".join(items)


def _read(path: str) -> str:
    with open(path, encoding="ascii") as fh:
        return fh.read()


def inspect(cert: str, key: str, passphrase: str | None) -> dict:
    """The CA's certificate checked against its key: a CA certificate that may sign, the key
    opens with the passphrase and matches, not expired. Returns its fingerprint, subject, expiry
    and name constraints."""
    try:
        text = _read(cert)
    except (OSError, UnicodeDecodeError) as exc:
        raise CAError(f"notebook_tls_ca_cert: {cert} can't be read ({exc.__class__.__name__})") from None
    blocks = _PEM.findall(text)
    if len(blocks) != 1:
        raise CAError(f"notebook_tls_ca_cert: {cert} must hold exactly one PEM certificate, it holds {len(blocks)}")
    about = _run(["x509", "-noout", "-pubkey", "-subject", "-enddate", "-nameopt", "RFC2253", "-checkend", "86400",
                  "-ext", "basicConstraints,keyUsage,nameConstraints"], stdin=blocks[0])
    if "BEGIN PUBLIC KEY" not in about.stdout:
        raise CAError(f"notebook_tls_ca_cert: {cert} is not a certificate openssl can read")
    if not re.search(r"CA:TRUE", about.stdout) or "Certificate Sign" not in about.stdout:
        raise CAError(f"notebook_tls_ca_cert: {cert} is not a CA certificate (it needs CA:TRUE and keyCertSign)")
    if "Certificate will expire" in about.stdout:
        raise CAError(f"notebook_tls_ca_cert: {cert} expires within a day; give a new CA (see the README on rotation)")
    if not os.path.isfile(key):
        raise CAError(f"notebook_tls_ca_key: {key} is missing while notebook_tls_ca_cert {cert} exists; "
                      "give the CA's key, or remove both to have the role make a new CA")
    if os.stat(key).st_mode & 0o077:
        raise CAError(f"notebook_tls_ca_key: {key} can be read by others than its owner (mode "
                      f"{os.stat(key).st_mode & 0o777:04o}); chmod 0600 it")
    keyout = _run(["pkey", "-in", key, "-passin", "{pass}", "-pubout"], passphrase)
    if keyout.returncode != 0:
        if passphrase:
            raise CAError(f"notebook_tls_ca_key_passphrase does not open notebook_tls_ca_key {key}")
        raise CAError(f"notebook_tls_ca_key: {key} is encrypted or not a key (set notebook_tls_ca_key_passphrase "
                      "if it is encrypted)")
    if _PUBKEY.search(keyout.stdout).group(0) != _PUBKEY.search(about.stdout).group(0):
        raise CAError(f"notebook_tls_ca_key: {key} is not the key of notebook_tls_ca_cert {cert}")
    lines = dict(line.split("=", 1) for line in about.stdout.splitlines() if line.startswith(("subject=", "notAfter=")))
    constraints = []
    if "Name Constraints" in about.stdout:
        section = about.stdout.split("Name Constraints:", 1)[1]
        if "Excluded:" in section:
            raise CAError(f"notebook_tls_ca_cert: {cert} has excluded name constraints, which this role can't check "
                          "before signing; give a CA with permitted subtrees only")
        section = section.split("Permitted:", 1)[-1]
        for kind, value in re.findall(r"^\s+(DNS|IP):(\S+)", section, re.M):
            if kind == "IP" and "/" in value:
                address, mask = value.split("/", 1)
                prefix = bin(int(ipaddress.ip_address(mask))).count("1")
                value = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
            constraints.append((kind, value.lower()))
    return {
        "cert": cert,
        "pem": blocks[0] + "\n",
        "fingerprint_sha256": _der_fingerprint(ssl.PEM_cert_to_DER_cert(blocks[0])),
        "subject": lines.get("subject", ""),
        "not_after": lines.get("notAfter", ""),
        "name_constraints": [f"{kind}:{value}" for kind, value in constraints],
    }


def ensure(cert: str, key: str, passphrase: str | None, *, key_type: str, rsa_bits: int, common_name: str,
           days: int, name_constraints: list[str], check_mode: bool = False) -> tuple[bool, dict]:
    """The CA at ``cert``/``key``: inspected when both exist, made when both are missing.
    Returns (made, what inspect returns); in check mode, (True, {}) where one would be made."""
    constraints = parse_constraints(name_constraints)
    if os.path.exists(cert):
        return False, inspect(cert, key, passphrase)
    if os.path.exists(key):
        raise CAError(f"notebook_tls_ca_cert: {cert} is missing while notebook_tls_ca_key {key} exists; "
                      "give the CA's certificate, or remove both to have the role make a new CA")
    if check_mode:
        return True, {}
    directory = os.path.dirname(os.path.abspath(key))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, ".nbops-ca.lock"), "a", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(cert):  # made by a play that held the lock before this one
            return False, inspect(cert, key, passphrase)
        _make(cert, key, passphrase, key_type, rsa_bits, common_name, days, constraints)
    return True, inspect(cert, key, passphrase)


def _make(cert, key, passphrase, key_type, rsa_bits, common_name, days, constraints) -> None:
    algorithm = ["-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{rsa_bits}"] if key_type == "rsa" else \
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    cipher = ["-aes-256-cbc", "-pass", "{pass}"] if passphrase else []
    tmp_key, tmp_cert = f"{key}.{secrets.token_hex(4)}.tmp", f"{cert}.{secrets.token_hex(4)}.tmp"
    old_umask = os.umask(0o077)
    try:
        made = _run(["genpkey", *algorithm, *cipher, "-out", tmp_key], passphrase)
        if made.returncode != 0:
            raise RuntimeError(f"openssl genpkey failed: {made.stderr.strip()[-300:]}")
        extensions = ["-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                      "-addext", "subjectKeyIdentifier=hash"]
        if constraints:
            extensions += ["-addext", _openssl_constraints(constraints)]
        signed = _run(["req", "-x509", "-new", "-sha256", "-key", tmp_key, "-passin", "{pass}", "-days", str(days),
                       "-subj", "/CN=" + common_name[:64].replace("/", "\\/"), *extensions, "-out", tmp_cert], passphrase)
        if signed.returncode != 0:
            raise RuntimeError(f"openssl req -x509 failed: {signed.stderr.strip()[-300:]}")
        os.chmod(tmp_cert, 0o644)
        os.replace(tmp_key, key)
        os.replace(tmp_cert, cert)
    finally:
        os.umask(old_umask)
        for path in (tmp_key, tmp_cert):
            if os.path.exists(path):
                os.unlink(path)


def sign(ca: dict, key: str, passphrase: str | None, csr: str, names: list[str], common_name: str, days: int) -> str:
    """Sign a host's request for ``names`` (the signer's, not the request's) with the CA that
    ``inspect`` returned; the chain served is the leaf and the CA's certificate."""
    entries = entries_from_names(names)
    outside = [e for e in entries if not permitted(e, [tuple(c.split(":", 1)) for c in ca["name_constraints"]])]
    if outside:
        raise CAError(f"notebook_tls_extra_names: {', '.join(outside)} outside the CA's name constraints "
                      f"({', '.join(ca['name_constraints'])})")
    checked = _run(["req", "-verify", "-noout", "-text"], stdin=csr)
    if checked.returncode != 0:
        raise CAError("the host's certificate request does not verify")
    left = _days_left(ca["not_after"])
    if left < 1:
        raise CAError(f"notebook_tls_ca_cert: the CA expires on {ca['not_after']}; give a new CA")
    usage = "digitalSignature,keyEncipherment" if "rsaEncryption" in checked.stdout else "digitalSignature"
    extensions = "\n".join([
        "[leaf]",
        "basicConstraints=critical,CA:FALSE",
        f"keyUsage=critical,{usage}",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=" + ",".join(entries),
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid,issuer",
    ]) + "\n"
    # Serial: 127 random bits, positive.
    serial = "0x" + secrets.token_hex(16)
    serial = "0x" + format(int(serial, 16) >> 1, "x")
    with tempfile.NamedTemporaryFile("w", encoding="ascii", suffix=".cnf") as ext, \
            tempfile.NamedTemporaryFile("w", encoding="ascii", suffix=".pem") as ca_file:
        ext.write(extensions)
        ext.flush()
        ca_file.write(ca["pem"])
        ca_file.flush()
        signed = _run(["x509", "-req", "-sha256", "-CA", ca_file.name, "-CAkey", key, "-passin", "{pass}",
                       "-set_serial", serial, "-days", str(min(days, left)),
                       "-subj", "/CN=" + common_name[:64].replace("/", "\\/"),
                       "-extfile", ext.name, "-extensions", "leaf"], passphrase, stdin=csr)
    if signed.returncode != 0 or "BEGIN CERTIFICATE" not in signed.stdout:
        raise RuntimeError(f"openssl x509 -req failed: {signed.stderr.strip()[-300:]}")
    return _PEM.search(signed.stdout).group(0) + "\n" + ca["pem"]


def _days_left(not_after: str) -> int:
    end = _tls.openssl_time(not_after)
    return (end - datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)).days if end else 0


# Device (client) certificates. Each is self-signed and is its own trust anchor: the server
# trusts exactly the allowed set, so removing one device refuses it on the next converge and
# leaves every other device's certificate as it is (no CRL, which the server could not check).
_DEVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def device_files(directory: str, name: str) -> dict:
    return {kind: os.path.join(directory, f"{name}.{kind}") for kind in ("pem", "key", "p12")}


def _device_current(files: dict, password: str, renew_days: int) -> bool:
    if not all(os.path.isfile(path) for path in files.values()):
        return False
    found = _tls.inspect(files["pem"], files["key"], renew_days * 86400)
    if found["state"] != "valid":
        return False
    opened = _run(["pkcs12", "-in", files["p12"], "-passin", "{pass}", "-nokeys", "-noout"], password)
    return opened.returncode == 0


def ensure_devices(directory: str, names: list[str], password: str, days: int, renew_days: int,
                   check_mode: bool = False) -> dict:
    """Device certificates for ``names`` in ``directory`` (PEM certificate, key, and PKCS#12
    with ``password``), made when missing, expiring or when the PKCS#12 doesn't open with the
    password; the files of devices no longer named are moved to ``revoked/``. Returns the
    allowed certificates (PEM), and the names issued and revoked."""
    for name in names:
        if not _DEVICE.match(name):
            raise CAError(f"notebook_tls_clients: {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
                          "starting with a letter or digit")
    if len(set(names)) != len(names):
        raise CAError("notebook_tls_clients: a name is given twice")
    if names and not password:
        raise CAError("notebook_tls_client_p12_password must be set to issue device certificates (PKCS#12 files)")
    issued, revoked = [], []
    # A device is what this code leaves: a .p12 beside its .pem (a CA kept in the same place is not one).
    present = sorted({f[:-4] for f in os.listdir(directory) if f.endswith(".p12")
                      and os.path.isfile(os.path.join(directory, f[:-4] + ".pem"))}) if os.path.isdir(directory) else []
    if check_mode:
        issued = [n for n in names if not _device_current(device_files(directory, n), password, renew_days)]
        revoked = [n for n in present if n not in names]
        # The certificates that would stay, so a converged host's trust file predicts no change.
        kept = [_read(device_files(directory, n)["pem"]) for n in names if n not in issued]
        return {"issued": issued, "revoked": revoked, "certificates": kept}
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, ".nbops-clients.lock"), "a", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in names:
            files = device_files(directory, name)
            if not _device_current(files, password, renew_days):
                _make_device(files, name, password, days)
                issued.append(name)
        for name in present:
            if name not in names:
                os.makedirs(os.path.join(directory, "revoked"), mode=0o700, exist_ok=True)
                for path in device_files(directory, name).values():
                    if os.path.exists(path):
                        os.replace(path, os.path.join(directory, "revoked", os.path.basename(path)))
                revoked.append(name)
        certificates = [_read(device_files(directory, name)["pem"]) for name in names]
    return {"issued": issued, "revoked": revoked, "certificates": certificates}


def _make_device(files: dict, name: str, password: str, days: int) -> None:
    old_umask = os.umask(0o077)
    tmp = {kind: f"{path}.{secrets.token_hex(4)}.tmp" for kind, path in files.items()}
    try:
        _tls.make_client_pair(tmp["key"], tmp["pem"], name, days)
        exported = _run(["pkcs12", "-export", "-inkey", tmp["key"], "-in", tmp["pem"], "-name", name,
                         "-passout", "{pass}", "-out", tmp["p12"]], password)
        if exported.returncode != 0:
            raise RuntimeError(f"openssl pkcs12 -export failed: {exported.stderr.strip()[-300:]}")
        os.chmod(tmp["pem"], 0o644)
        for kind in ("key", "p12", "pem"):
            os.replace(tmp[kind], files[kind])
    finally:
        os.umask(old_umask)
        for path in tmp.values():
            if os.path.exists(path):
                os.unlink(path)
