# SPDX-License-Identifier: GPL-3.0-or-later
"""What a remote user does: trust the certificate, log in, run code in a kernel."""

from __future__ import annotations

import os
import socket
import ssl
from urllib.parse import urlsplit

import pytest


def test_certificate_verifies_strictly(server):
    if not server["ca"]:
        return
    parts = urlsplit(server["url"])
    context = ssl.create_default_context(cafile=server["ca"])
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname=parts.hostname) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_health_probe_answers_without_login(client):
    response = client.get("api")
    assert response.status_code == 200
    assert "version" in response.json()


def test_api_refuses_anonymous_callers(client):
    assert client.get("api/status").status_code == 403
    assert client.get("api/contents").status_code == 403


def test_wrong_password_is_refused(server, client):
    response = client.login(server["password"] + "-wrong")
    assert response.status_code == 401
    assert client.get("api/status").status_code == 403


def test_token_login_is_closed(client):
    # An empty token must not log anybody in, whatever the environment says.
    assert client.get("api/status?token=").status_code == 403
    assert client.get("api/status", headers={"Authorization": "token "}).status_code == 403


def test_login_then_run_code_in_a_kernel(server, logged_in):
    assert logged_in.get("api/status").status_code == 200
    kernel = logged_in.start_kernel()
    try:
        result = logged_in.execute(kernel, "import notebook, sys\nprint(6 * 7, notebook.__version__)")
        assert result.status == "ok", result.error
        answer, version = result.stdout.split()
        assert answer == "42"
        assert int(version.split(".")[0]) == server["major"]
    finally:
        assert logged_in.delete_kernel(kernel) == 204


def test_extra_packages_and_inline_plots(server, logged_in):
    modules = [m for m in os.environ.get("NB_EXPECT_MODULES", "").split(",") if m]
    if not modules:
        pytest.skip("this scenario installs no extra packages")
    code = "\n".join(f"import {m}" for m in modules) + "\nprint('imported')"
    if "matplotlib" in modules:
        code += "\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
    kernel = logged_in.start_kernel()
    try:
        result = logged_in.execute(kernel, code)
        assert result.status == "ok", result.error
        assert "imported" in result.stdout
        if "matplotlib" in modules:
            images = [
                m for m in result.messages
                if m["header"]["msg_type"] == "display_data" and "image/png" in m["content"]["data"]
            ]
            assert images, "plt.show() produced no inline PNG"
    finally:
        logged_in.delete_kernel(kernel)
