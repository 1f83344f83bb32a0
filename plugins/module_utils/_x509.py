# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""A provided certificate and key, files on the controller, checked before anything is copied.

``check_pair`` reads both files itself and answers with what is wrong (``problems``), what is
worth knowing (``warnings``) and the facts the role needs: the leaf's fingerprint, expiry and
names, the key's type and size, and the certificates as PEM text without any key, so a file that
holds key and certificates together can be split.

A bad user file is a problem in the answer, never an exception; TypeError and ValueError are for
arguments of the wrong kind. The private key is loaded only to compare its public half with the
certificate's: the answer holds nothing of it, and no message quotes it (nor a path argument that
looks like PEM text instead of a file name).

What the notebook server can serve: Jupyter hands certfile/keyfile to tornado, which calls
Python's ``ssl.SSLContext.load_cert_chain``. Python's server context refuses RSA keys under 2048
bits (OpenSSL security level 2: "ee key too small"). ECDSA on P-256, P-384 and P-521 handshakes
with every client; other curves (secp256k1, brainpool, P-224) load but no client negotiates them.
DSA has no TLS 1.3 signature scheme and no cipher in the role's TLS 1.2 list. Ed25519, Ed448 and
RSA-PSS (id-RSASSA-PSS) keys handshake with OpenSSL clients but not with browsers, so a health
check over curl or Python would pass while every browser fails: they are problems too.

Controller only (the tls_pair filter). Private to this collection (the leading underscore).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shlex
import stat

from ansible_collections.nbops.jupyter.plugins.module_utils._san import entries_from_names

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, PublicKeyAlgorithmOID
except ImportError as exc:  # pragma: no cover - ansible-core depends on cryptography
    x509 = None
    CRYPTOGRAPHY_IMPORT_ERROR: Exception | None = exc
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

CERT_VAR = "notebook_tls_cert"
KEY_VAR = "notebook_tls_key"
# A PEM chain is a few kilobytes; anything this large is the wrong file.
MAX_FILE_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_VAULT_HEADER = b"$ANSIBLE_VAULT;"
_FIX_ORDER = "order the file as the server's own certificate first, then the certificate that issued it, and so on"


def _utc(cert, name: str) -> datetime.datetime:
    value = getattr(cert, name + "_utc", None)  # cryptography >= 42
    if value is None:
        value = getattr(cert, name).replace(tzinfo=datetime.timezone.utc)
    return value


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _looks_like_content(path: str) -> bool:
    """PEM text (or any multi-line text) given where a file name belongs: never echoed."""
    return "-----" in path or "\n" in path or "\r" in path or "\x00" in path or len(path) > 4096


def _read(path: str, var: str, problems: list[str]) -> bytes | None:
    """The file's bytes, or None with the reason in problems."""
    if _looks_like_content(path):
        problems.append(f"{var} holds text that is not a file name (PEM text?); save it to a file on the controller "
                        f"and set {var} to that file's path")
        return None
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        problems.append(f"{var}: {path} does not exist on the controller; set {var} to the path of a PEM file there")
        return None
    except OSError as exc:
        problems.append(f"{var}: {path} cannot be read on the controller ({exc.strerror}); make it readable "
                        "by the user running Ansible")
        return None
    if not stat.S_ISREG(info.st_mode):
        problems.append(f"{var}: {path} is not a regular file; set {var} to the path of a PEM file")
        return None
    if info.st_size > MAX_FILE_BYTES:
        problems.append(f"{var}: {path} is larger than 1 MiB, too large for PEM certificates or a key; check the path")
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.append(f"{var}: {path} cannot be read on the controller ({exc.strerror}); make it readable "
                        "by the user running Ansible")
        return None


def _blocks(data: bytes) -> list[tuple[str, bytes]]:
    return [(match.group(1).decode("ascii"), match.group(0)) for match in _PEM_BLOCK.finditer(data)]


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _public_key_of_private(blocks: list[bytes], var: str, path: str, problems: list[str]):
    """The public half of the only private key in blocks, or None with the reason in problems.

    Nothing about the private key but its public half and whether it is encrypted leaves this
    function; exceptions from parsing it are dropped unread (their text is never shown)."""
    if len(blocks) > 1:
        problems.append(f"{var}: {path} holds {len(blocks)} private keys; keep only the one that belongs to the certificate")
        return None
    block = blocks[0]
    encrypted_problem = (
        f"{var}: the private key in {path} is encrypted (it has a passphrase), which the notebook server cannot use; "
        f"remove it with `openssl pkey -in {shlex.quote(path)} -out {shlex.quote(path + '.plain')}` and set "
        f"{KEY_VAR} to the new file"
    )
    try:
        return serialization.load_pem_private_key(block, password=None).public_key()
    except TypeError:  # "Password was not given but private key is encrypted"
        problems.append(encrypted_problem)
    except Exception:  # pylint: disable=broad-exception-caught
        # Whatever the exception says is not looked at: it must not reach a message.
        if block.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") or b"Proc-Type: 4,ENCRYPTED" in block:
            problems.append(encrypted_problem)  # and damaged, or in a cipher cryptography lacks
        else:
            problems.append(f"{var}: the private key in {path} cannot be read; it must be an unencrypted PEM key "
                            "(BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
    return None


def _key_facts(public_key, algorithm_oid) -> tuple[str | None, int | None, str | None]:
    """key_type, key_bits and, for a key the server cannot serve to browsers, why not."""
    if public_key is None:
        return None, None, None
    if isinstance(public_key, rsa.RSAPublicKey):
        bits = public_key.key_size
        if algorithm_oid is not None and algorithm_oid == getattr(PublicKeyAlgorithmOID, "RSASSA_PSS", None):
            return "rsa-pss", bits, "an RSA-PSS key (id-RSASSA-PSS), which browsers do not accept"
        if bits < MIN_RSA_BITS:
            return "rsa", bits, (f"an RSA key of {bits} bits, which the server refuses to load "
                                 f"(OpenSSL security level 2 needs {MIN_RSA_BITS} bits or more)")
        return "rsa", bits, None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curve = public_key.curve
        if curve.name in _CURVES:
            return "ecdsa", curve.key_size, None
        return "ecdsa", curve.key_size, f"an ECDSA key on {curve.name}, a curve TLS clients do not negotiate"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519", 256, "an Ed25519 key, which OpenSSL clients accept but browsers do not"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "ed448", 456, "an Ed448 key, which OpenSSL clients accept but browsers do not"
    if isinstance(public_key, dsa.DSAPublicKey):
        return "dsa", public_key.key_size, "a DSA key, which TLS 1.3 and the role's TLS 1.2 ciphers cannot use"
    return "unknown", None, "a key of a type TLS servers do not use"


def _dns_entry(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return "DNS:" + value.lower()  # a DNS entry that reads as an address: not an IP entry
    try:
        return entries_from_names([value])[0]
    except ValueError:
        return "DNS:" + value.lower()  # not a valid name: kept, so it matches nothing


def _san_entries(san) -> list[str]:
    """subjectAltName entries in _san's normal form; other kinds as openssl prints them."""
    entries = set()
    for name in san:
        if isinstance(name, x509.DNSName):
            entries.add(_dns_entry(name.value))
        elif isinstance(name, x509.IPAddress):
            value = name.value
            if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
                entries.update(entries_from_names([str(value)]))
            else:
                entries.add(f"IP:{value}")
        elif isinstance(name, x509.RFC822Name):
            entries.add("email:" + name.value)
        elif isinstance(name, x509.UniformResourceIdentifier):
            entries.add("URI:" + name.value)
        elif isinstance(name, x509.DirectoryName):
            entries.add("DirName:" + name.value.rfc4514_string())
        elif isinstance(name, x509.RegisteredID):
            entries.add("Registered ID:" + name.value.dotted_string)
        else:
            entries.add("othername:" + getattr(getattr(name, "type_id", None), "dotted_string", "?"))
    return sorted(entries)


def _covers(entries: list[str], wanted: str) -> bool:
    """Whether a certificate with these entries is valid for the name, wildcards as RFC 6125 has them."""
    if wanted in entries:
        return True
    if not wanted.startswith("DNS:"):
        return False
    host = wanted[4:]
    label, _dot, rest = host.partition(".")
    return bool(label and rest and label != "*" and ("DNS:*." + rest) in entries)


def _issued_by(cert, issuer) -> str | None:
    """Why issuer did not issue cert, or None when it did."""
    if cert.issuer != issuer.subject:
        return "names"
    verify = getattr(cert, "verify_directly_issued_by", None)  # cryptography >= 40
    if verify is None:
        return None
    try:
        verify(issuer)
    except Exception:  # pylint: disable=broad-exception-caught
        # InvalidSignature; or TypeError/ValueError when the issuer's key or the signature
        # algorithm is one cryptography cannot check: not issued, as far as can be told.
        return "signature"
    return None


def _extension(extensions, cls):
    try:
        return extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _leaf_problems(leaf, path: str, now: datetime.datetime, problems: list[str]) -> tuple[list[str], bool]:
    """Validity, subjectAltName and usage of the leaf. Returns its SAN entries and whether they
    hold a DNS name or an address."""
    not_before, not_after = _utc(leaf, "not_valid_before"), _utc(leaf, "not_valid_after")
    if now < not_before:
        problems.append(f"{CERT_VAR}: the certificate in {path} is not valid before {_iso(not_before)}; check the clock "
                        "of the machine that issued it, or wait")
    if now > not_after:
        problems.append(f"{CERT_VAR}: the certificate in {path} expired on {_iso(not_after)}; renew it, "
                        "or use notebook_tls_mode 'self_signed'")
    try:
        extensions = leaf.extensions
    except Exception:  # pylint: disable=broad-exception-caught
        problems.append(f"{CERT_VAR}: the extensions of the certificate in {path} cannot be parsed; issue it again")
        return [], False
    san = _extension(extensions, x509.SubjectAlternativeName)
    entries = _san_entries(san) if san is not None else []
    has_names = any(entry.startswith(("DNS:", "IP:")) for entry in entries)
    if not has_names:
        problems.append(f"{CERT_VAR}: the certificate in {path} has no subjectAltName with a DNS name or IP address, "
                        "and browsers ignore the common name; issue it again with the host's names, e.g. "
                        "`-addext subjectAltName=DNS:host.example.org`")
    constraints = _extension(extensions, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        problems.append(f"{CERT_VAR}: the certificate in {path} is a CA certificate (basicConstraints CA:TRUE), not one "
                        "for a TLS server; issue it with `-addext basicConstraints=critical,CA:FALSE` "
                        "(openssl req -x509 makes CA:TRUE unless told otherwise)")
    usages = _extension(extensions, x509.ExtendedKeyUsage)
    if usages is not None and ExtendedKeyUsageOID.SERVER_AUTH not in usages:
        listed = ", ".join(getattr(oid, "_name", oid.dotted_string) for oid in usages) or "empty"
        problems.append(f"{CERT_VAR}: the certificate in {path} is not for TLS servers: its extendedKeyUsage ({listed}) "
                        "lacks serverAuth; issue it with `-addext extendedKeyUsage=serverAuth`")
    key_usage = _extension(extensions, x509.KeyUsage)
    if key_usage is not None and not key_usage.digital_signature:
        problems.append(f"{CERT_VAR}: the certificate in {path} is not for TLS servers: its keyUsage lacks "
                        "digitalSignature; issue it with `-addext keyUsage=critical,digitalSignature`")
    return entries, has_names


def _renew_days(renew_days: object) -> int:
    if renew_days is None:
        return 0
    if isinstance(renew_days, bool) or not isinstance(renew_days, (int, str)):
        raise TypeError(f"renew_days must be a number of days, got {type(renew_days).__name__}")
    if isinstance(renew_days, str):
        if not renew_days.strip().isdigit():
            raise ValueError("renew_days must be a whole number of days")
        renew_days = int(renew_days)
    if renew_days < 0:
        raise ValueError("renew_days must not be negative")
    return renew_days


def _path(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a path (a string), got {type(value).__name__}")
    return os.path.expanduser(value)


def _same_file(first: str, second: str) -> bool:
    if first == second:
        return True
    try:
        return os.path.samefile(first, second)
    except (OSError, ValueError):
        return False


def check_pair(cert_path: object, key_path: object = None, names: object = None, renew_days: object = None,
               now: datetime.datetime | None = None) -> dict:
    """Check a certificate file and its key file (``key_path`` empty: the key is in the certificate
    file). ``names``: what the host is known by, to warn when the certificate covers none of them;
    ``renew_days``: warn when it expires within that many days. See the module's docstring."""
    if x509 is None:
        raise RuntimeError(f"checking certificates needs the Python library cryptography on the controller: "
                           f"{CRYPTOGRAPHY_IMPORT_ERROR}")
    cert_path = _path(cert_path, "the certificate")
    key_path = _path(key_path, "the key")
    if isinstance(names, (list, tuple)) and any(isinstance(name, str) and _looks_like_content(name) for name in names):
        raise ValueError("names must be host names and addresses, and one of them is text of another kind (PEM text?)")
    wanted = [] if names is None else entries_from_names(names)
    days = _renew_days(renew_days)
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    elif not isinstance(now, datetime.datetime) or now.tzinfo is None:
        raise TypeError("now must be a timezone-aware datetime")

    result = {
        "problems": [], "warnings": [], "combined": False, "fingerprint_sha256": None, "not_after": None,
        "names": [], "key_type": None, "key_bits": None, "chain_length": 0, "certificate_pem": "",
    }
    problems, warnings = result["problems"], result["warnings"]
    if not cert_path:
        problems.append(f"{CERT_VAR} is empty; with notebook_tls_mode 'provided' set it to the path of the PEM "
                        "certificate on the controller")
        return result
    cert_data = _read(cert_path, CERT_VAR, problems)
    if cert_data is not None and cert_data.lstrip().startswith(_VAULT_HEADER):
        problems.append(f"{CERT_VAR}: {cert_path} is encrypted with Ansible Vault, which this check cannot read; "
                        "certificates are public: decrypt it with `ansible-vault decrypt`, and if it holds the key "
                        f"too, move the key to a file of its own set as {KEY_VAR}")
        cert_data = None
    cert_blocks = _blocks(cert_data) if cert_data is not None else []

    # The key: from its own file, or from the certificate file.
    combined = not key_path or _same_file(cert_path, key_path)
    key_var, key_shown = (KEY_VAR, key_path) if key_path else (CERT_VAR, cert_path)
    key_blocks: list[bytes] = []
    key_readable = cert_data is not None
    if combined:
        key_blocks = [block for label, block in cert_blocks if label.endswith("PRIVATE KEY")]
        if cert_data is not None and not key_blocks:
            if key_path:
                problems.append(f"{KEY_VAR}: {key_path} holds no PEM private key (-----BEGIN PRIVATE KEY-----); set "
                                f"{KEY_VAR} to the key's file")
            else:
                problems.append(f"{KEY_VAR} is empty and {CERT_VAR} ({cert_path}) holds no private key; set {KEY_VAR} "
                                f"to the key's file, or put the key into {cert_path}")
        result["combined"] = bool(key_blocks)
    else:
        if any(label.endswith("PRIVATE KEY") for label, _block in cert_blocks):
            warnings.append(f"{CERT_VAR}: {cert_path} holds a private key too, which is not used ({KEY_VAR}'s is); "
                            "keep the key out of the certificate file")
        key_data = _read(key_path, KEY_VAR, problems)
        key_readable = key_data is not None
        if key_data is not None and key_data.lstrip().startswith(_VAULT_HEADER):
            warnings.append(f"{KEY_VAR}: {key_path} is encrypted with Ansible Vault, which this check cannot read: "
                            "whether the key matches the certificate, has a passphrase or is of a usable type "
                            "was not checked")
            key_readable = False
        elif key_data is not None:
            key_blocks = [block for label, block in _blocks(key_data) if label.endswith("PRIVATE KEY")]
            if not key_blocks:
                problems.append(f"{KEY_VAR}: {key_path} holds no PEM private key (-----BEGIN PRIVATE KEY-----); "
                                "convert a DER key with `openssl pkey -inform der -in KEY -out KEY.pem`")
        del key_data
    key_public = None
    if key_readable and key_blocks:
        key_public = _public_key_of_private(key_blocks, key_var, key_shown, problems)
    del key_blocks

    if cert_data is None:
        return result
    certs = []
    for number, block in enumerate((block for label, block in cert_blocks if label == "CERTIFICATE"), start=1):
        try:
            certs.append(x509.load_pem_x509_certificate(block))
        except Exception:  # pylint: disable=broad-exception-caught
            problems.append(f"{CERT_VAR}: certificate {number} in {cert_path} cannot be parsed; replace it with the "
                            "PEM text it was issued as")
            certs = None
            break
    del cert_blocks, cert_data
    if certs is None:
        return result
    if not certs:
        problems.append(f"{CERT_VAR}: {cert_path} holds no PEM certificate (-----BEGIN CERTIFICATE-----); convert a "
                        "DER file with `openssl x509 -inform der -in CERT -out CERT.pem`")
        return result

    # Which certificate the key belongs to: the first one, or the order is wrong.
    spkis = []
    for cert in certs:
        try:
            spkis.append(_spki(cert.public_key()))
        except Exception:  # pylint: disable=broad-exception-caught
            spkis.append(None)  # a key type cryptography does not know: reported below
    leaf_index = 0
    if key_public is not None:
        key_spki = _spki(key_public)
        matches = [index for index, spki in enumerate(spkis) if spki == key_spki]
        if not matches:
            problems.append(f"{key_var}: the private key in {key_shown} does not belong to the first certificate in "
                            f"{cert_path} (their public keys differ); set {CERT_VAR} and {KEY_VAR} to a certificate "
                            "and the key it was issued for")
        elif matches[0] > 0:
            leaf_index = matches[0]
            problems.append(f"{CERT_VAR}: the certificate the private key belongs to is certificate {leaf_index + 1} "
                            f"of {len(certs)} in {cert_path}, but the server's own certificate must come first; "
                            + _FIX_ORDER)
    ordered = [certs[leaf_index]] + certs[:leaf_index] + certs[leaf_index + 1:]
    leaf = ordered[0]
    if leaf_index == 0:
        for number in range(1, len(ordered)):
            issued, issuer = ordered[number - 1], ordered[number]
            why = _issued_by(issued, issuer)
            if why == "names":
                problems.append(f"{CERT_VAR}: certificate {number + 1} in {cert_path} ({issuer.subject.rfc4514_string()}) "
                                f"did not issue certificate {number}, whose issuer is "
                                f"{issued.issuer.rfc4514_string()}; {_FIX_ORDER}")
                break
            if why == "signature":
                problems.append(f"{CERT_VAR}: certificate {number + 1} in {cert_path} ({issuer.subject.rfc4514_string()}) "
                                f"has the name of certificate {number}'s issuer but did not sign it; {_FIX_ORDER}, "
                                "with the chain your CA gave for this certificate")
                break

    entries, has_names = _leaf_problems(leaf, cert_path, now, problems)
    try:
        leaf_public = leaf.public_key()
    except Exception:  # pylint: disable=broad-exception-caught
        leaf_public = None
    key_type, key_bits, unusable = _key_facts(leaf_public, getattr(leaf, "public_key_algorithm_oid", None))
    if leaf_public is None:
        unusable = "a key of a type TLS servers do not use"
    if unusable:
        problems.append(f"{CERT_VAR}: the certificate in {cert_path} has {unusable}; use an RSA key of {MIN_RSA_BITS} "
                        "bits or more, or an ECDSA key on P-256, P-384 or P-521")

    not_after = _utc(leaf, "not_valid_after")
    if days and now <= not_after < now + datetime.timedelta(days=days):
        warnings.append(f"{CERT_VAR}: the certificate in {cert_path} expires on {_iso(not_after)}, within "
                        f"notebook_tls_renew_days ({days} days); renew it soon")
    if wanted and has_names and not any(_covers(entries, name) for name in wanted):
        warnings.append(f"{CERT_VAR}: the certificate in {cert_path} is for {', '.join(entries)}, none of the host's names "
                        f"({', '.join(wanted)}); browsers will refuse it unless they reach the server by one of the "
                        "certificate's names")

    digest = leaf.fingerprint(hashes.SHA256()).hex().upper()
    result.update({
        "fingerprint_sha256": ":".join(digest[index:index + 2] for index in range(0, len(digest), 2)),
        "not_after": _iso(not_after),
        "names": entries,
        "key_type": key_type,
        "key_bits": key_bits,
        "chain_length": len(ordered),
        "certificate_pem": "".join(cert.public_bytes(serialization.Encoding.PEM).decode("ascii") for cert in ordered),
    })
    return result
