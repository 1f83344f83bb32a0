# SPDX-License-Identifier: GPL-3.0-or-later
"""notebook_tls_mode: private_ca, per host: the chain served verifies strictly against the CA
alone, the host's key was made on the host, and the CA's key stayed on the controller."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hostcheck import sh

pytestmark = pytest.mark.skipif(os.environ.get("NB_TLS_MODE") != "private_ca", reason="private CA only")

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)


def _served_chain(server) -> list[str]:
    parts = urlsplit(server["url"])
    out = subprocess.run(["openssl", "s_client", "-connect", f"{parts.hostname}:{parts.port}", "-servername", "localhost",
                          "-showcerts", "-verify_return_error", "-CAfile", server["ca"], "-x509_strict",
                          "-verify_hostname", "localhost"],
                         input="", capture_output=True, text=True, timeout=30, check=False)
    assert "Verification: OK" in out.stdout + out.stderr, (out.stdout + out.stderr)[-1500:]
    return _PEM.findall(out.stdout)


def test_the_chain_served_verifies_strictly_against_the_ca_alone(server, tmp_path):
    chain = _served_chain(server)
    ca = Path(server["ca"]).read_text()
    assert len(chain) == 2 and chain[1].strip() == ca.strip(), "the server must serve its certificate and the CA's"
    (tmp_path / "leaf.pem").write_text(chain[0])
    proc = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", server["ca"],
                           str(tmp_path / "leaf.pem")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Python's strict default context (hostname, chain, key usage) against the CA alone.
    context = ssl.create_default_context(cafile=server["ca"])
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    parts = urlsplit(server["url"])
    with context.wrap_socket(__import__("socket").create_connection((parts.hostname, parts.port), timeout=10),
                             server_hostname="localhost") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_only_the_request_travelled(server, host, paths):
    """The key served is the one made on the host; no request is left waiting; the CA's key is
    not on the host and stays on the controller readable by its owner only, encrypted."""
    live_pub = sh(host, f"openssl pkey -in {paths['key']} -pubout")
    served_pub = subprocess.run(["openssl", "x509", "-noout", "-pubkey"], input=_served_chain(server)[0],
                                capture_output=True, text=True, check=True).stdout
    assert live_pub == served_pub
    assert "request" not in sh(host, f"ls -A {paths['config']}/tls").split(), "a request was left waiting"
    ca_dir = Path(server["ca"]).parent
    key = ca_dir / "ca.key"
    assert sorted(p.name for p in ca_dir.iterdir()) == [".nbops-ca.lock", "ca.key", "ca.pem"]
    assert key.stat().st_mode & 0o777 == 0o600 and ca_dir.stat().st_mode & 0o777 == 0o700
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert sh(host, "grep -rl 'ENCRYPTED PRIVATE KEY' /etc /opt /var/lib /root 2>/dev/null || true").strip() == ""
