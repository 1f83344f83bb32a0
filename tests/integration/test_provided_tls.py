# SPDX-License-Identifier: GPL-3.0-or-later
"""A provided certificate and key (here one combined PEM file, as the recipes make it): checked on
the controller, put live together, served, and the key never shown."""

from __future__ import annotations

import hashlib
import os
import ssl
from urllib.parse import urlsplit

import pytest
from converge import converge
from hostcheck import sh

pytestmark = pytest.mark.skipif(os.environ.get("NB_TLS_MODE") != "provided", reason="provided certificates only")


def _served_fingerprint(server) -> str:
    parts = urlsplit(server["url"])
    der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate((parts.hostname, parts.port)))
    return hashlib.sha256(der).hexdigest()


@pytest.mark.one_platform(1)
def test_a_replaced_pair_is_put_live_checked_and_the_key_never_shown(server, host, paths):
    """The live generation removed: the next converge puts the pair live again, runs the health
    gate (which compares the certificate served with the one deployed), and neither -vvv nor
    --diff shows a byte of the key."""
    key_lines = [line for line in sh(host, f"cat {paths['key']}").splitlines() if line and not line.startswith("-----")]
    sh(host, f"rm -rf {paths['config']}/tls/live {paths['config']}/tls/gen-*")
    run = converge(host, args=("-vvv", "--diff"))
    assert run.rc == 0 and run.changed >= 1, run.output[-3000:]
    assert "Wait for the server to serve" in run.output, "a changed certificate must run the health gate"
    assert "PRIVATE KEY" not in run.output and not any(line in run.output for line in key_lines), "the key is in the output"
    served = _served_fingerprint(server)
    deployed = sh(host, f"openssl x509 -in {paths['cert']} -outform DER | sha256sum").split()[0]
    assert served == deployed
    assert sh(host, f"stat -L -c '%U %a' {paths['key']} {paths['cert']}").split() == ["root", "640", "root", "644"]
    # The certificate file holds no key, though the user's file held both.
    assert "PRIVATE KEY" not in sh(host, f"cat {paths['cert']}")
    again = converge(host)
    assert again.rc == 0 and again.changed == 0, again.output[-3000:]
