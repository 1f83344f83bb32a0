# SPDX-License-Identifier: GPL-3.0-or-later
"""notebook_tls_mode: private_ca across the scenario's fleet: one CA signed every host, and a new
CA given to the play has every host re-issued on the next converge (devices that carry both CAs
during the change keep trusting every host), then a converge changes nothing."""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from converge import PLAYBOOK, run_playbook  # noqa: E402  pylint: disable=wrong-import-position

HOSTS = [h for h in os.environ.get("NB_FLEET", "").split(",") if h]
CA = os.environ.get("NB_CA", "")
CONFIG = os.environ.get("NB_CONFIG_DIR", "/etc/jupyter-notebook")
pytestmark = pytest.mark.skipif(len(HOSTS) < 2 or os.environ.get("NB_TLS_MODE") != "private_ca",
                                reason="a private CA and at least two hosts")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)


def served(host: str) -> list[str]:
    """The chain the host's server presents on 127.0.0.1:8888, read inside the container."""
    out = subprocess.run(["docker", "exec", host, "openssl", "s_client", "-connect", "127.0.0.1:8888", "-showcerts",
                          "-servername", "localhost"], input="", capture_output=True, text=True, timeout=30, check=False)
    return _PEM.findall(out.stdout)


def verifies(chain: list[str], cafile: str, tmp_path: Path) -> bool:
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(chain[0])
    proc = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", cafile, str(leaf)],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0


def fingerprint(pem: str) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def serial(pem: str) -> str:
    return subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem, capture_output=True, text=True,
                          check=True).stdout.strip()


def recap_changed(output: str) -> dict:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)", output, re.M)}


def test_one_ca_signed_every_host(tmp_path):
    chains = {host: served(host) for host in HOSTS}
    for host, chain in chains.items():
        assert len(chain) == 2 and verifies(chain, CA, tmp_path), f"{host} does not serve a chain of the CA"
        assert fingerprint(chain[1]) == fingerprint(Path(CA).read_text()), host
    assert len({serial(chain[0]) for chain in chains.values()}) == len(HOSTS), "two hosts share a serial"
    print(f"\n[figure] private CA: {len(HOSTS)} hosts signed by one CA, strict verification against it alone")


def handshake(host: str, cert: Path | None = None) -> bool:
    """A TLS 1.2 handshake with the host's server (inside the container, as a client on the host
    would), with or without a client certificate. TLS 1.2, because under 1.3 a refusal comes only
    after the client finished its side of the handshake."""
    args = ["openssl", "s_client", "-connect", "127.0.0.1:8888", "-tls1_2", "-servername", "localhost"]
    if cert:
        subprocess.run(["docker", "cp", str(cert.with_suffix(".pem")), f"{host}:/root/device.pem"], check=True)
        subprocess.run(["docker", "cp", str(cert.with_suffix(".key")), f"{host}:/root/device.key"], check=True)
        args += ["-cert", "/root/device.pem", "-key", "/root/device.key"]
    out = subprocess.run(["docker", "exec", host, *args], input="Q\n", capture_output=True, text=True, timeout=30, check=False)
    return out.returncode == 0 and "Cipher is" in out.stdout and "New, (NONE)" not in out.stdout


def published(host: str) -> str:
    return subprocess.run(["docker", "port", host, "8888/tcp"], capture_output=True, text=True,
                          check=True).stdout.split()[0]


def test_client_certificates_devices_in_and_a_removed_one_out(tmp_path):
    """Mutual TLS on top of the private CA: no certificate, no handshake; a device the role issued
    logs in and runs code (the password still asked); a device removed from the list is refused
    after the next converge, the other keeps working, and the health gate (which presents the
    host's own certificate) passed every restart."""
    from nbclient import NotebookClient  # pylint: disable=import-outside-toplevel

    devices = tmp_path / "devices"
    mtls = {"notebook_tls_clients": [{"name": "laptop-ada"}, {"name": "tablet-bob"}],
            "notebook_tls_clients_dir": str(devices), "notebook_tls_client_p12_password": "device-p12-Pa55"}
    rc, output = run_playbook(PLAYBOOK, mtls, timeout=900)
    assert rc == 0, output[-4000:]
    ada, bob = devices / "laptop-ada", devices / "tablet-bob"
    for name in ("laptop-ada", "tablet-bob"):
        assert (devices / f"{name}.p12").stat().st_mode & 0o777 == 0o600
        assert (devices / f"{name}.key").stat().st_mode & 0o777 == 0o600
        opened = subprocess.run(["openssl", "pkcs12", "-in", str(devices / f"{name}.p12"), "-passin", "pass:device-p12-Pa55",
                                 "-nokeys", "-noout"], capture_output=True, check=False)
        assert opened.returncode == 0, f"{name}.p12 does not open with its password"
    password = os.environ.get("NB_PASSWORD", "molecule-ca-Pa55")
    for host in HOSTS:
        assert not handshake(host), f"{host} completed a handshake without a client certificate"
        assert handshake(host, ada) and handshake(host, bob)
        client = NotebookClient(f"https://{published(host)}/", CA, client_cert=(str(ada) + ".pem", str(ada) + ".key"))
        assert client.login("not-the-password").status_code != 302, "a device certificate must not replace the password"
        client = NotebookClient(f"https://{published(host)}/", CA, client_cert=(str(ada) + ".pem", str(ada) + ".key"))
        assert client.login(password).status_code == 302
        kernel = client.start_kernel()
        assert client.execute(kernel, "print(6 * 7)").stdout.strip() == "42"
        client.delete_kernel(kernel)
    rc, output = run_playbook(PLAYBOOK, {**mtls, "notebook_tls_clients": [{"name": "laptop-ada"}]}, timeout=900)
    assert rc == 0, output[-4000:]
    assert (devices / "revoked" / "tablet-bob.pem").exists() and not bob.with_suffix(".pem").exists()
    for host in HOSTS:
        assert not handshake(host, devices / "revoked" / "tablet-bob"), f"{host} still accepts the removed device"
        assert handshake(host, ada), f"{host} refused the device that stays"
    rc, output = run_playbook(PLAYBOOK, {**mtls, "notebook_tls_clients": [{"name": "laptop-ada"}]}, timeout=900)
    assert rc == 0 and set(recap_changed(output).values()) == {0}, output[-3000:]
    # The last device removed: it is refused too, and the server still asks for certificates.
    rc, output = run_playbook(PLAYBOOK, {**mtls, "notebook_tls_clients": []}, timeout=900)
    assert rc == 0, output[-4000:]
    for host in HOSTS:
        assert not handshake(host) and not handshake(host, devices / "revoked" / "laptop-ada"), host
    # Turned off on purpose, for the tests after this one.
    rc, output = run_playbook(PLAYBOOK, {"notebook_tls_client_auth": "off"}, timeout=900)
    assert rc == 0, output[-4000:]
    for host in HOSTS:
        assert handshake(host)
    print(f"\n[figure] mutual TLS: {len(HOSTS)} hosts refuse no certificate and a removed device, accept the issued one")


def test_a_new_ca_reissues_every_host_and_devices_with_both_cas_keep_trusting(tmp_path):
    new = tmp_path / "new-ca"
    before = {host: served(host) for host in HOSTS}
    # A new CA given by the user (no passphrase this time): the files exist, so the role checks
    # them and signs with them.
    new.mkdir(mode=0o700)
    subprocess.run(["openssl", "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-keyout", str(new / "ca.key"), "-out", str(new / "ca.pem"), "-days", "400", "-subj", "/CN=rotated CA",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   capture_output=True, check=True)
    os.chmod(new / "ca.key", 0o600)
    both = tmp_path / "both.pem"
    both.write_text(Path(CA).read_text() + (new / "ca.pem").read_text())
    for host, chain in before.items():
        assert verifies(chain, str(both), tmp_path), f"a device with both CAs must trust {host} before the change"
    extra = {"notebook_tls_ca_cert": str(new / "ca.pem"), "notebook_tls_ca_key_passphrase": ""}
    rc, output = run_playbook(PLAYBOOK, extra, timeout=900)
    assert rc == 0, output[-4000:]
    signing = re.findall(r"^TASK \[.*Sign the requests of this batch with the private CA.*$", output, re.M)
    assert len(signing) == 1, f"signing must be one controller step for the fleet: {signing}"
    for host in HOSTS:
        chain = served(host)
        assert verifies(chain, str(new / "ca.pem"), tmp_path), f"{host} still serves the old CA's certificate"
        assert not verifies(chain, CA, tmp_path)
        assert verifies(chain, str(both), tmp_path), f"a device with both CAs must trust {host} after the change"
        assert chain[0] != before[host][0]
    rc, output = run_playbook(PLAYBOOK, extra, timeout=900)
    assert rc == 0 and set(recap_changed(output).values()) == {0}, output[-3000:]
    # A mistyped CA path while the hosts serve this CA's certificates: refused, no CA made.
    typo = tmp_path / "new-ca-typo" / "ca.pem"
    rc, output = run_playbook(PLAYBOOK, {**extra, "notebook_tls_ca_cert": str(typo)}, timeout=900)
    assert rc != 0 and "notebook_tls_ca_new" in output and set(recap_changed(output).values()) == {0}, output[-3000:]
    assert not typo.parent.exists()
    print(f"\n[figure] CA rotation: {len(HOSTS)} hosts re-issued in one converge, the next changed=0")
