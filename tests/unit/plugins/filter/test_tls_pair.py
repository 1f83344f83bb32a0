# SPDX-License-Identifier: GPL-3.0-or-later
"""The tls_pair filter on real keys and certificates made in tmp_path, with cryptography and with
the openssl CLI; openssl and Python's ssl module are the oracles for fingerprint and usability.

Every call goes through Files.check / Files.raises, which fail the test when anything of a private
key written by the test shows up in the result or in an exception's message."""

from __future__ import annotations

import datetime
import ipaddress
import json
import shlex
import ssl
import subprocess

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jinja2 import StrictUndefined

from ansible_collections.nbops.jupyter.plugins.filter.tls_pair import FilterModule, tls_pair
from ansible_collections.nbops.jupyter.plugins.module_utils import _x509

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)
_KEYS: dict = {}


def key(name: str):
    """Keys are slow to make (RSA, DSA): one of each name per session."""
    if name not in _KEYS:
        kind = name.partition("-")[0]  # "ec-leaf", "ec-other": P-256 keys of their own
        _KEYS[name] = {
            "ec": lambda: ec.generate_private_key(ec.SECP256R1()),
            "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
            "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
            "k256": lambda: ec.generate_private_key(ec.SECP256K1()),
            "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
            "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
            "rsa3072": lambda: rsa.generate_private_key(65537, 3072),
            "ed25519": ed25519.Ed25519PrivateKey.generate,
            "ed448": ed448.Ed448PrivateKey.generate,
            "dsa": lambda: dsa.generate_private_key(2048),
        }[kind]()
    return _KEYS[name]


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def general_name(value):
    if not isinstance(value, str):
        return value
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def make_cert(subject_key, *, issuer=None, cn="host.example.org", san=("host.example.org", "192.0.2.10"),
              ca=False, eku=(ExtendedKeyUsageOID.SERVER_AUTH,), digital_signature=True,
              not_before=None, not_after=None) -> x509.Certificate:
    """A certificate for subject_key, issued by issuer=(cert, key) or self-signed. san=None leaves the
    extension out; eku=None too; digital_signature=None leaves keyUsage out."""
    issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer else (name(cn), subject_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(issuer_name)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - DAY)
        .not_valid_after(not_after or NOW + 90 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([general_name(v) for v in san]), critical=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if digital_signature is not None:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=digital_signature, content_commitment=False, key_encipherment=not digital_signature,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False,
            decipher_only=False), critical=True)
    algorithm = None if isinstance(signing_key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()
    return builder.sign(signing_key, algorithm)


def make_ca(key_name: str, cn: str, issuer=None):
    ca_key = key(key_name)
    return make_cert(ca_key, issuer=issuer, cn=cn, san=None, ca=True, eku=None), ca_key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


class Files:
    """Files in tmp_path; remembers every private key written, to look for it where it must not be."""

    def __init__(self, directory):
        self.dir = directory
        self.secrets: list[str] = []

    def remember(self, text: str) -> None:
        self.secrets.append(text)

    def key_pem(self, private_key, form: str = "pkcs8", password: bytes | None = None) -> bytes:
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        fmt = {"pkcs8": serialization.PrivateFormat.PKCS8,
               "traditional": serialization.PrivateFormat.TraditionalOpenSSL}[form]
        data = private_key.private_bytes(serialization.Encoding.PEM, fmt, encryption)
        self.remember(data.decode())
        # The key in every other form too: none of them may show up either.
        der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        self.remember(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()).decode())
        self.remember(der.hex())
        numbers = getattr(private_key, "private_numbers", None)
        if numbers is not None:
            numbers = numbers()
            secret = getattr(numbers, "d", None) or getattr(numbers, "private_value", None) or getattr(numbers, "x", None)
            self.remember(str(secret))
            self.remember(format(secret, "x"))
        return data

    def write(self, filename: str, *parts: bytes) -> str:
        path = self.dir / filename
        path.write_bytes(b"".join(parts))
        return str(path)

    def pair(self, cert_parts, private_key=None, **key_options):
        """cert file from cert_parts (certificates or bytes), key file from private_key."""
        cert_path = self.write("cert.pem", *(pem(p) if isinstance(p, x509.Certificate) else p for p in cert_parts))
        key_path = self.write("key.pem", self.key_pem(private_key, **key_options)) if private_key is not None else ""
        return cert_path, key_path

    def assert_secret_free(self, text: str) -> None:
        for secret in self.secrets:
            assert secret not in text
            lines = [line for line in secret.splitlines() if not line.startswith("-----")]
            assert "".join(lines) not in text
            for line in lines:
                # Whole base64 lines; the last, short one could occur in certificate text by chance.
                if len(line) >= 16:
                    assert line not in text, "a line of a private key leaked"

    def check(self, cert, key_path="", **options) -> dict:
        try:
            result = tls_pair(cert, key_path, **options)
        except Exception as exc:
            self.assert_exception_secret_free(exc)
            raise
        assert_plain(result)
        for text in (repr(result), json.dumps(result), str(result)):
            self.assert_secret_free(text)
        assert set(result) == {"problems", "warnings", "combined", "fingerprint_sha256", "not_after", "names",
                               "key_type", "key_bits", "chain_length", "certificate_pem"}
        return result

    def raises(self, cert, key_path="", **options) -> str:
        with pytest.raises(AnsibleFilterError) as info:
            tls_pair(cert, key_path, **options)
        self.assert_exception_secret_free(info.value)
        return str(info.value)

    def assert_exception_secret_free(self, exc: BaseException) -> None:
        while exc is not None:
            self.assert_secret_free(str(exc))
            self.assert_secret_free(repr(exc))
            self.assert_secret_free(repr(exc.args))
            exc = exc.__cause__ or exc.__context__


def assert_plain(value) -> None:
    """Only what Ansible's JSON carries: no bytes, no key objects."""
    if isinstance(value, dict):
        for item in value.values():
            assert_plain(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain(item)
    else:
        assert value is None or type(value) in (str, int, bool), type(value)


@pytest.fixture
def files(tmp_path):
    return Files(tmp_path)


@pytest.fixture(scope="module")
def ca():
    return make_ca("p384-ca", "Test Root CA")


@pytest.fixture(scope="module")
def intermediate(ca):
    return make_ca("ec-intermediate", "Test Intermediate CA", issuer=ca)


def fingerprint_by_openssl(path: str) -> str:
    return openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha256").strip().partition("=")[2]


# --- usable pairs -------------------------------------------------------------------------------


def test_filter_is_registered():
    assert FilterModule().filters() == {"tls_pair": tls_pair}


def test_leaf_and_chain_from_a_ca_have_no_problems(files, ca, intermediate):
    leaf = make_cert(key("ec-leaf"), issuer=intermediate, san=("Host.Example.org", "192.0.2.10", "0:0:0:0:0:0:0:1"))
    cert_path, key_path = files.pair([leaf, intermediate[0], ca[0]], key("ec-leaf"))
    result = files.check(cert_path, key_path, names=["host.example.org"], renew_days=30)
    assert result == {
        "problems": [],
        "warnings": [],
        "combined": False,
        "fingerprint_sha256": fingerprint_by_openssl(cert_path),
        "not_after": (NOW + 90 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "names": ["DNS:host.example.org", "IP:192.0.2.10", "IP:::1"],
        "key_type": "ecdsa",
        "key_bits": 256,
        "chain_length": 3,
        "certificate_pem": (pem(leaf) + pem(intermediate[0]) + pem(ca[0])).decode(),
    }
    assert len(result["fingerprint_sha256"]) == 95 and result["fingerprint_sha256"].isupper()


@pytest.mark.parametrize("key_name, bits", [("rsa2048", 2048), ("rsa3072", 3072)])
def test_self_signed_rsa_leaf_is_usable_and_python_ssl_serves_it(files, key_name, bits):
    cert_path, key_path = files.pair([make_cert(key(key_name))], key(key_name), form="traditional")
    result = files.check(cert_path, key_path, renew_days=30)
    assert (result["problems"], result["warnings"]) == ([], [])
    assert (result["key_type"], result["key_bits"], result["chain_length"]) == ("rsa", bits, 1)
    assert result["fingerprint_sha256"] == fingerprint_by_openssl(cert_path)
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path)


def test_openssl_cli_recipe_with_server_extensions_is_usable(files):
    cert_path, key_path = str(files.dir / "cert.pem"), str(files.dir / "key.pem")
    openssl("req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "30",
            "-subj", "/CN=nb.example.org", "-keyout", key_path, "-out", cert_path,
            "-addext", "subjectAltName=DNS:nb.example.org,IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth")
    files.remember(open(key_path, encoding="ascii").read())
    result = files.check(cert_path, key_path, names=["nb.example.org", "127.0.0.1"], renew_days=7)
    assert (result["problems"], result["warnings"], result["combined"]) == ([], [], False)
    assert result["names"] == ["DNS:nb.example.org", "IP:127.0.0.1"]
    assert result["fingerprint_sha256"] == fingerprint_by_openssl(cert_path)
    end = openssl("x509", "-in", cert_path, "-noout", "-enddate").strip().partition("=")[2]
    assert datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%dT%H:%M:%SZ") == result["not_after"]


# --- key types ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key_name, key_type, bits, why", [
    ("ec", "ecdsa", 256, None),
    ("p384", "ecdsa", 384, None),
    ("p521", "ecdsa", 521, None),
    ("rsa2048", "rsa", 2048, None),
    ("rsa1024", "rsa", 1024,
     "an RSA key of 1024 bits, which the server refuses to load (OpenSSL security level 2 needs 2048 bits or more)"),
    ("k256", "ecdsa", 256, "an ECDSA key on secp256k1, a curve TLS clients do not negotiate"),
    ("ed25519", "ed25519", 256, "an Ed25519 key, which OpenSSL clients accept but browsers do not"),
    ("ed448", "ed448", 456, "an Ed448 key, which OpenSSL clients accept but browsers do not"),
    ("dsa", "dsa", 2048, "a DSA key, which TLS 1.3 and the role's TLS 1.2 ciphers cannot use"),
])
def test_key_types(files, key_name, key_type, bits, why):
    cert_path, key_path = files.pair([make_cert(key(key_name))], key(key_name))
    result = files.check(cert_path, key_path)
    expected = [] if why is None else [
        f"notebook_tls_cert: the certificate in {cert_path} has {why}; use an RSA key of 2048 bits or more, "
        "or an ECDSA key on P-256, P-384 or P-521"]
    assert result["problems"] == expected
    assert (result["key_type"], result["key_bits"]) == (key_type, bits)


def test_rsa_1024_is_refused_by_python_ssl_as_the_problem_says(files):
    cert_path, key_path = files.pair([make_cert(key("rsa1024"))], key("rsa1024"))
    with pytest.raises(ssl.SSLError, match="too small"):
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path)


def test_rsa_pss_key_made_by_openssl(files):
    cert_path, key_path = str(files.dir / "cert.pem"), str(files.dir / "key.pem")
    openssl("req", "-x509", "-nodes", "-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048", "-days", "30",
            "-subj", "/CN=nb.example.org", "-keyout", key_path, "-out", cert_path,
            "-addext", "subjectAltName=DNS:nb.example.org", "-addext", "basicConstraints=critical,CA:FALSE")
    files.remember(open(key_path, encoding="ascii").read())
    result = files.check(cert_path, key_path)
    assert result["problems"] == [
        f"notebook_tls_cert: the certificate in {cert_path} has an RSA-PSS key (id-RSASSA-PSS), which browsers do not "
        "accept; use an RSA key of 2048 bits or more, or an ECDSA key on P-256, P-384 or P-521"]
    assert (result["key_type"], result["key_bits"]) == ("rsa-pss", 2048)


# --- the private key ----------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["pkcs8", "traditional"])
def test_key_with_a_passphrase(files, form):
    leaf_key = key("ec")
    cert_path, key_path = files.pair([make_cert(leaf_key)], leaf_key, form=form, password=b"correct horse")
    marker = b"ENCRYPTED PRIVATE KEY" if form == "pkcs8" else b"Proc-Type: 4,ENCRYPTED"
    assert marker in open(key_path, "rb").read()
    result = files.check(cert_path, key_path)
    assert result["problems"] == [
        f"notebook_tls_key: the private key in {key_path} is encrypted (it has a passphrase), which the notebook server "
        f"cannot use; remove it with `openssl pkey -in {key_path} -out {key_path}.plain` and set notebook_tls_key to the "
        "new file"]
    # The certificate is still described.
    assert result["fingerprint_sha256"] == fingerprint_by_openssl(cert_path)


@pytest.mark.parametrize("form", ["pkcs8", "traditional"])
def test_damaged_key_with_a_passphrase_is_still_called_encrypted(files, form):
    leaf_key = key("ec")
    cert_path = files.write("cert.pem", pem(make_cert(leaf_key)))
    lines = files.key_pem(leaf_key, form=form, password=b"pw").splitlines()
    key_path = files.write("key.pem", b"\n".join(lines[:-3] + lines[-1:]) + b"\n")
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_key: the private key in {key_path} is encrypted (it has a passphrase), which the notebook server "
        f"cannot use; remove it with `openssl pkey -in {key_path} -out {key_path}.plain` and set notebook_tls_key to the "
        "new file"]


def test_passphrase_advice_works_and_quotes_the_path(files):
    leaf_key = key("ec")
    cert_path = files.write("cert.pem", pem(make_cert(leaf_key)))
    key_path = files.write("my key.pem", files.key_pem(leaf_key, password=b"pw"))
    result = files.check(cert_path, key_path)
    command = result["problems"][0].split("`")[1]
    assert command == f"openssl pkey -in '{key_path}' -out '{key_path}.plain'"
    subprocess.run(shlex.split(command) + ["-passin", "pass:pw"], check=True, capture_output=True)
    files.remember(open(key_path + ".plain", encoding="ascii").read())
    assert files.check(cert_path, key_path + ".plain")["problems"] == []


def test_key_of_another_certificate(files):
    cert_path, key_path = files.pair([make_cert(key("ec"))], key("ec-other"))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_key: the private key in {key_path} does not belong to the first certificate in {cert_path} "
        "(their public keys differ); set notebook_tls_cert and notebook_tls_key to a certificate and the key it was "
        "issued for"]


def test_two_keys_in_the_key_file(files):
    cert_path = files.write("cert.pem", pem(make_cert(key("ec"))))
    key_path = files.write("key.pem", files.key_pem(key("ec")), files.key_pem(key("ec-other")))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_key: {key_path} holds 2 private keys; keep only the one that belongs to the certificate"]


def test_key_file_without_a_pem_key(files):
    cert_path = files.write("cert.pem", pem(make_cert(key("ec"))))
    der = key("ec").private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    files.key_pem(key("ec"))  # remembered: the DER form must not leak either
    key_path = files.write("key.der", der)
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_key: {key_path} holds no PEM private key (-----BEGIN PRIVATE KEY-----); convert a DER key with "
        "`openssl pkey -inform der -in KEY -out KEY.pem`"]


def test_damaged_key(files):
    cert_path = files.write("cert.pem", pem(make_cert(key("ec"))))
    good = files.key_pem(key("ec")).decode()
    lines = good.splitlines()
    lines[2] = lines[2][:10] + ("A" if lines[2][10] != "A" else "B") + lines[2][11:]
    lines[1] = lines[1][:-8]
    damaged = "\n".join(lines) + "\n"
    files.remember(damaged)
    key_path = files.write("key.pem", damaged.encode())
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_key: the private key in {key_path} cannot be read; it must be an unencrypted PEM key "
        "(BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"]


# --- the leaf -----------------------------------------------------------------------------------


def test_expired_leaf(files):
    end = NOW - 2 * DAY
    cert_path, key_path = files.pair([make_cert(key("ec"), not_before=NOW - 30 * DAY, not_after=end)], key("ec"))
    result = files.check(cert_path, key_path, renew_days=30)
    assert result["problems"] == [
        f"notebook_tls_cert: the certificate in {cert_path} expired on {end.strftime('%Y-%m-%dT%H:%M:%SZ')}; renew it, "
        "or use notebook_tls_mode 'self_signed'"]
    assert result["warnings"] == []  # expired is a problem, not also "expires soon"
    assert result["not_after"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_leaf_not_yet_valid(files):
    start = NOW + 3 * DAY
    cert_path, key_path = files.pair([make_cert(key("ec"), not_before=start)], key("ec"))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: the certificate in {cert_path} is not valid before {start.strftime('%Y-%m-%dT%H:%M:%SZ')}; "
        "check the clock of the machine that issued it, or wait"]


@pytest.mark.parametrize("renew_days, warned", [(30, True), ("30", True), (11, True), (9, False), (0, False), (None, False)])
def test_expiring_within_renew_days_is_a_warning(files, renew_days, warned):
    end = NOW + 10 * DAY
    cert_path, key_path = files.pair([make_cert(key("ec"), not_after=end)], key("ec"))
    result = files.check(cert_path, key_path, renew_days=renew_days)
    assert result["problems"] == []
    assert result["warnings"] == ([
        f"notebook_tls_cert: the certificate in {cert_path} expires on {end.strftime('%Y-%m-%dT%H:%M:%SZ')}, within "
        f"notebook_tls_renew_days ({int(renew_days)} days); renew it soon"] if warned else [])


@pytest.mark.parametrize("san", [None, [x509.RFC822Name("admin@example.org")]], ids=["none", "email-only"])
def test_leaf_without_subject_alt_name(files, san):
    cert_path, key_path = files.pair([make_cert(key("ec"), san=san)], key("ec"))
    result = files.check(cert_path, key_path, names=["host.example.org"])
    assert result["problems"] == [
        f"notebook_tls_cert: the certificate in {cert_path} has no subjectAltName with a DNS name or IP address, and "
        "browsers ignore the common name; issue it again with the host's names, e.g. "
        "`-addext subjectAltName=DNS:host.example.org`"]
    assert result["warnings"] == []  # the problem says it already
    assert result["names"] == ([] if san is None else ["email:admin@example.org"])


def test_ca_certificate_as_leaf_as_plain_openssl_req_makes_it(files):
    cert_path, key_path = str(files.dir / "cert.pem"), str(files.dir / "key.pem")
    openssl("req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "30",
            "-subj", "/CN=nb.example.org", "-keyout", key_path, "-out", cert_path,
            "-addext", "subjectAltName=DNS:nb.example.org")
    files.remember(open(key_path, encoding="ascii").read())
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: the certificate in {cert_path} is a CA certificate (basicConstraints CA:TRUE), not one for "
        "a TLS server; issue it with `-addext basicConstraints=critical,CA:FALSE` (openssl req -x509 makes CA:TRUE "
        "unless told otherwise)"]


def test_leaf_for_clients_only(files):
    leaf = make_cert(key("ec"), eku=[ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION])
    cert_path, key_path = files.pair([leaf], key("ec"))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: the certificate in {cert_path} is not for TLS servers: its extendedKeyUsage (clientAuth, "
        "emailProtection) lacks serverAuth; issue it with `-addext extendedKeyUsage=serverAuth`"]


def test_leaf_without_extended_key_usage_is_for_any_use(files):
    cert_path, key_path = files.pair([make_cert(key("ec"), eku=None, digital_signature=None)], key("ec"))
    assert files.check(cert_path, key_path)["problems"] == []


def test_leaf_whose_key_usage_lacks_digital_signature(files):
    cert_path, key_path = files.pair([make_cert(key("rsa2048"), digital_signature=False)], key("rsa2048"))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: the certificate in {cert_path} is not for TLS servers: its keyUsage lacks digitalSignature; "
        "issue it with `-addext keyUsage=critical,digitalSignature`"]


# --- the chain ----------------------------------------------------------------------------------


def test_issuer_before_leaf(files, intermediate):
    leaf = make_cert(key("ec"), issuer=intermediate)
    cert_path, key_path = files.pair([intermediate[0], leaf], key("ec"))
    result = files.check(cert_path, key_path)
    assert result["problems"] == [
        f"notebook_tls_cert: the certificate the private key belongs to is certificate 2 of 2 in {cert_path}, but the "
        "server's own certificate must come first; order the file as the server's own certificate first, then the "
        "certificate that issued it, and so on"]
    # Described as it would be once the order is fixed.
    assert result["certificate_pem"] == (pem(leaf) + pem(intermediate[0])).decode()
    assert result["fingerprint_sha256"] == leaf.fingerprint(hashes.SHA256()).hex(":").upper()


def test_root_before_intermediate(files, ca, intermediate):
    leaf = make_cert(key("ec"), issuer=intermediate)
    cert_path, key_path = files.pair([leaf, ca[0], intermediate[0]], key("ec"))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: certificate 2 in {cert_path} (CN=Test Root CA) did not issue certificate 1, whose issuer is "
        "CN=Test Intermediate CA; order the file as the server's own certificate first, then the certificate that "
        "issued it, and so on"]


def test_issuer_of_the_same_name_that_did_not_sign(files, intermediate):
    leaf = make_cert(key("ec"), issuer=intermediate)
    impostor = make_ca("ec-impostor", "Test Intermediate CA")[0]
    cert_path, key_path = files.pair([leaf, impostor], key("ec"))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: certificate 2 in {cert_path} (CN=Test Intermediate CA) has the name of certificate 1's "
        "issuer but did not sign it; order the file as the server's own certificate first, then the certificate that "
        "issued it, and so on, with the chain your CA gave for this certificate"]


def test_self_signed_leaf_followed_by_an_unrelated_certificate(files, ca):
    cert_path, key_path = files.pair([make_cert(key("ec")), ca[0]], key("ec"))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: certificate 2 in {cert_path} (CN=Test Root CA) did not issue certificate 1, whose issuer is "
        "CN=host.example.org; order the file as the server's own certificate first, then the certificate that issued "
        "it, and so on"]


# --- key and certificates in one file ------------------------------------------------------------


@pytest.mark.parametrize("key_first", [True, False])
@pytest.mark.parametrize("key_argument", ["", None, "same"])
def test_combined_file_is_split(files, intermediate, key_first, key_argument):
    leaf = make_cert(key("ec"), issuer=intermediate)
    certs = pem(leaf) + pem(intermediate[0])
    key_text = files.key_pem(key("ec"), form="traditional")
    path = files.write("combined.pem", *((key_text, certs) if key_first else (certs, key_text)))
    result = files.check(path, path if key_argument == "same" else key_argument)
    assert (result["problems"], result["warnings"], result["combined"]) == ([], [], True)
    assert result["certificate_pem"] == certs.decode()
    assert result["chain_length"] == 2
    # What the role would deploy: the certificates alone, and the file as the key (OpenSSL reads
    # its first private key). Python's ssl, which serves the notebook, takes both.
    split = files.write("certs-only.pem", result["certificate_pem"].encode())
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(split, path)
    assert fingerprint_by_openssl(split) == result["fingerprint_sha256"] == fingerprint_by_openssl(path)


def test_combined_file_made_by_the_old_notebook_docs_recipe(files):
    # IPython's docs: openssl req -x509 -nodes -newkey rsa:... -keyout mycert.pem -out mycert.pem
    path = str(files.dir / "mycert.pem")
    openssl("req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "30", "-subj", "/CN=nb.example.org",
            "-keyout", path, "-out", path, "-addext", "subjectAltName=DNS:nb.example.org",
            "-addext", "basicConstraints=critical,CA:FALSE")
    text = open(path, encoding="ascii").read()
    assert "PRIVATE KEY" in text and "CERTIFICATE" in text
    files.remember(text[:text.index("-----END PRIVATE KEY-----")])
    result = files.check(path, "")
    assert (result["problems"], result["combined"], result["key_type"]) == ([], True, "rsa")
    assert "PRIVATE" not in result["certificate_pem"]


def test_combined_file_with_two_keys(files):
    path = files.write("combined.pem", files.key_pem(key("ec")), pem(make_cert(key("ec"))), files.key_pem(key("ec-other")))
    result = files.check(path, "")
    assert result["problems"] == [
        f"notebook_tls_cert: {path} holds 2 private keys; keep only the one that belongs to the certificate"]
    assert result["combined"] is True


def test_combined_file_with_an_encrypted_key(files):
    path = files.write("combined.pem", files.key_pem(key("ec"), password=b"pw"), pem(make_cert(key("ec"))))
    assert files.check(path, "")["problems"] == [
        f"notebook_tls_cert: the private key in {path} is encrypted (it has a passphrase), which the notebook server "
        f"cannot use; remove it with `openssl pkey -in {path} -out {path}.plain` and set notebook_tls_key to the new file"]


def test_certificate_alone_and_no_key_file(files):
    path = files.write("cert.pem", pem(make_cert(key("ec"))))
    result = files.check(path, "")
    assert result["problems"] == [
        f"notebook_tls_key is empty and notebook_tls_cert ({path}) holds no private key; set notebook_tls_key to the "
        f"key's file, or put the key into {path}"]
    assert result["combined"] is False


def test_same_file_given_twice_without_a_key(files):
    path = files.write("cert.pem", pem(make_cert(key("ec"))))
    assert files.check(path, path)["problems"] == [
        f"notebook_tls_key: {path} holds no PEM private key (-----BEGIN PRIVATE KEY-----); set notebook_tls_key to "
        "the key's file"]


def test_key_in_the_certificate_file_and_a_key_file(files):
    cert = pem(make_cert(key("ec")))
    cert_path = files.write("cert.pem", cert, files.key_pem(key("ec")))
    key_path = files.write("key.pem", files.key_pem(key("ec")))
    result = files.check(cert_path, key_path)
    assert (result["problems"], result["combined"]) == ([], False)
    assert result["warnings"] == [
        f"notebook_tls_cert: {cert_path} holds a private key too, which is not used (notebook_tls_key's is); keep the "
        "key out of the certificate file"]
    assert result["certificate_pem"] == cert.decode()


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("names", [
    ["HOST.example.org"],
    ["other.example.org", "192.0.2.10"],
    ["2001:db8:0:0:0:0:0:1"],
    ["a.wild.example.org"],
])
def test_names_covered(files, names):
    leaf = make_cert(key("ec"), san=("host.example.org", "192.0.2.10", "2001:db8::1", "*.wild.example.org"))
    cert_path, key_path = files.pair([leaf], key("ec"))
    result = files.check(cert_path, key_path, names=names)
    assert (result["problems"], result["warnings"]) == ([], [])
    assert result["names"] == ["DNS:*.wild.example.org", "DNS:host.example.org", "IP:192.0.2.10", "IP:2001:db8::1"]


@pytest.mark.parametrize("names", [["nb.example.org", "198.51.100.7"], ["a.b.wild.example.org"], ["wild.example.org"]])
def test_names_not_covered_is_a_warning(files, names):
    leaf = make_cert(key("ec"), san=("host.example.org", "192.0.2.10", "*.wild.example.org"))
    cert_path, key_path = files.pair([leaf], key("ec"))
    result = files.check(cert_path, key_path, names=names)
    assert result["problems"] == []
    wanted = ", ".join(sorted("IP:" + n if n[0].isdigit() else "DNS:" + n for n in names))
    assert result["warnings"] == [
        f"notebook_tls_cert: the certificate in {cert_path} is for DNS:*.wild.example.org, DNS:host.example.org, "
        f"IP:192.0.2.10, none of the host's names ({wanted}); browsers will refuse it unless they reach the server by "
        "one of the certificate's names"]


def test_dns_entry_that_reads_as_an_address_is_not_an_ip_entry(files):
    leaf = make_cert(key("ec"), san=[x509.DNSName("192.0.2.99"), x509.DNSName("Nb.Example.org")])
    cert_path, key_path = files.pair([leaf], key("ec"))
    result = files.check(cert_path, key_path, names=["192.0.2.99"])
    assert result["names"] == ["DNS:192.0.2.99", "DNS:nb.example.org"]
    # Clients match an address against IP entries only.
    assert len(result["warnings"]) == 1 and "none of the host's names (IP:192.0.2.99)" in result["warnings"][0]


def test_no_names_no_name_check(files):
    cert_path, key_path = files.pair([make_cert(key("ec"), san=("elsewhere.example.org",))], key("ec"))
    assert files.check(cert_path, key_path, names=[])["warnings"] == []
    assert files.check(cert_path, key_path)["warnings"] == []


# --- files --------------------------------------------------------------------------------------


def test_missing_files(files):
    cert_path, key_path = str(files.dir / "nope.pem"), str(files.dir / "nokey.pem")
    result = files.check(cert_path, key_path)
    assert result["problems"] == [
        f"notebook_tls_cert: {cert_path} does not exist on the controller; set notebook_tls_cert to the path of a PEM "
        "file there",
        f"notebook_tls_key: {key_path} does not exist on the controller; set notebook_tls_key to the path of a PEM file "
        "there"]
    assert result == {**result, "fingerprint_sha256": None, "not_after": None, "names": [], "key_type": None,
                      "key_bits": None, "chain_length": 0, "certificate_pem": "", "combined": False}


def test_missing_key_file_still_checks_the_certificate(files):
    cert_path = files.write("cert.pem", pem(make_cert(key("ec"), san=None)))
    key_path = str(files.dir / "nokey.pem")
    result = files.check(cert_path, key_path)
    assert result["problems"] == [
        f"notebook_tls_key: {key_path} does not exist on the controller; set notebook_tls_key to the path of a PEM file "
        "there",
        f"notebook_tls_cert: the certificate in {cert_path} has no subjectAltName with a DNS name or IP address, and "
        "browsers ignore the common name; issue it again with the host's names, e.g. "
        "`-addext subjectAltName=DNS:host.example.org`"]
    assert result["fingerprint_sha256"] == fingerprint_by_openssl(cert_path)


def test_directory_and_empty_path(files):
    key_path = files.write("key.pem", files.key_pem(key("ec")))
    assert files.check(str(files.dir), key_path)["problems"] == [
        f"notebook_tls_cert: {files.dir} is not a regular file; set notebook_tls_cert to the path of a PEM file"]
    assert files.check("", key_path)["problems"] == [
        "notebook_tls_cert is empty; with notebook_tls_mode 'provided' set it to the path of the PEM certificate on "
        "the controller"]


def test_unreadable_file(files, monkeypatch):
    cert_path, key_path = files.pair([make_cert(key("ec"))], key("ec"))

    def refuse(path, *args, **kwargs):
        if path == key_path:
            raise PermissionError(13, "Permission denied", path)
        return open(path, *args, **kwargs)

    monkeypatch.setattr(_x509, "open", refuse, raising=False)
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_key: {key_path} cannot be read on the controller (Permission denied); make it readable by the "
        "user running Ansible"]


def test_file_too_large(files):
    cert_path, key_path = files.pair([make_cert(key("ec"))], key("ec"))
    with open(cert_path, "ab") as handle:
        handle.write(b"\n" * (1024 * 1024))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: {cert_path} is larger than 1 MiB, too large for PEM certificates or a key; check the path"]


def test_file_without_a_certificate(files):
    der = make_cert(key("ec")).public_bytes(serialization.Encoding.DER)
    cert_path = files.write("cert.der", der)
    key_path = files.write("key.pem", files.key_pem(key("ec")))
    result = files.check(cert_path, key_path)
    assert result["problems"] == [
        f"notebook_tls_cert: {cert_path} holds no PEM certificate (-----BEGIN CERTIFICATE-----); convert a DER file "
        "with `openssl x509 -inform der -in CERT -out CERT.pem`"]
    assert result["fingerprint_sha256"] is None


def test_key_alone_as_the_certificate(files):
    path = files.write("key.pem", files.key_pem(key("ec")))
    result = files.check(path, "")
    assert result["problems"] == [
        f"notebook_tls_cert: {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----); convert a DER file "
        "with `openssl x509 -inform der -in CERT -out CERT.pem`"]
    assert result["certificate_pem"] == ""


def test_damaged_certificate(files):
    good = pem(make_cert(key("ec"))).decode().splitlines()
    good[3] = good[3][:20] + "!!!!" + good[3][24:]
    cert_path = files.write("cert.pem", pem(make_cert(key("ec"))), ("\n".join(good) + "\n").encode())
    key_path = files.write("key.pem", files.key_pem(key("ec")))
    assert files.check(cert_path, key_path)["problems"] == [
        f"notebook_tls_cert: certificate 2 in {cert_path} cannot be parsed; replace it with the PEM text it was "
        "issued as"]


def test_pem_text_instead_of_a_path_is_not_echoed(files):
    key_text = files.key_pem(key("ec")).decode()
    cert_text = pem(make_cert(key("ec"))).decode()
    result = files.check(cert_text, key_text)
    assert result["problems"] == [
        "notebook_tls_cert holds text that is not a file name (PEM text?); save it to a file on the controller and set "
        "notebook_tls_cert to that file's path",
        "notebook_tls_key holds text that is not a file name (PEM text?); save it to a file on the controller and set "
        "notebook_tls_key to that file's path"]
    assert "BEGIN" not in repr(result)


def test_vaulted_files(files):
    vaulted = b"$ANSIBLE_VAULT;1.1;AES256\n" + b"3" * 64 + b"\n"
    cert_path = files.write("cert.pem", pem(make_cert(key("ec"))))
    key_path = files.write("key.vault", vaulted)
    result = files.check(cert_path, key_path)
    assert result["problems"] == []
    assert result["warnings"] == [
        f"notebook_tls_key: {key_path} is encrypted with Ansible Vault, which this check cannot read: whether the key "
        "matches the certificate, has a passphrase or is of a usable type was not checked"]
    vaulted_cert = files.write("cert.vault", vaulted)
    assert files.check(vaulted_cert, key_path)["problems"] == [
        f"notebook_tls_cert: {vaulted_cert} is encrypted with Ansible Vault, which this check cannot read; certificates "
        "are public: decrypt it with `ansible-vault decrypt`, and if it holds the key too, move the key to a file of "
        "its own set as notebook_tls_key"]


def test_tilde_is_expanded(files, monkeypatch):
    monkeypatch.setenv("HOME", str(files.dir))
    files.pair([make_cert(key("ec"))], key("ec"))
    assert files.check("~/cert.pem", "~/key.pem")["problems"] == []


# --- wrong arguments: errors, still without the key ------------------------------------------------


@pytest.mark.parametrize("options, message", [
    ({"renew_days": "soon"}, "nbops.jupyter.tls_pair: renew_days must be a whole number of days"),
    ({"renew_days": -1}, "nbops.jupyter.tls_pair: renew_days must not be negative"),
    ({"renew_days": True}, "nbops.jupyter.tls_pair: renew_days must be a number of days, got bool"),
    ({"names": "host.example.org"}, "nbops.jupyter.tls_pair: expected a list of names, got str"),
    ({"names": ["not a name"]}, "nbops.jupyter.tls_pair: 'not a name' is neither an IP address nor a DNS name"),
])
def test_wrong_arguments_are_errors(files, options, message):
    cert_path, key_path = files.pair([make_cert(key("ec"))], key("ec"))
    assert files.raises(cert_path, key_path, **options) == message


def test_key_text_passed_as_a_name_is_not_echoed(files):
    cert_path, key_path = files.pair([make_cert(key("ec"))], key("ec"))
    key_text = open(key_path, encoding="ascii").read()
    assert files.raises(cert_path, key_path, names=[key_text]) == (
        "nbops.jupyter.tls_pair: names must be host names and addresses, and one of them is text of another kind "
        "(PEM text?)")


def test_wrong_types_and_undefined(files):
    cert_path, key_path = files.pair([make_cert(key("ec"))], key("ec"))
    assert files.raises(42, key_path) == "nbops.jupyter.tls_pair: the certificate must be a path (a string), got int"
    assert files.raises(cert_path, ["key.pem"]) == "nbops.jupyter.tls_pair: the key must be a path (a string), got list"
    assert files.raises(cert_path, StrictUndefined(name="notebook_tls_key")) == (
        "nbops.jupyter.tls_pair: an argument is undefined")
