# SPDX-License-Identifier: GPL-3.0-or-later
"""The hardening the role promises, checked from outside (TLS, HTTP) and inside (systemd)."""

from __future__ import annotations

import re
import socket
import ssl
from urllib.parse import urlsplit

import pytest
from hostcheck import sh
from nbclient import NotebookClient

CBC_ONLY = ":".join([
    "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
])


def _handshake(server, version: ssl.TLSVersion, ciphers: str | None = None) -> str:
    parts = urlsplit(server["url"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # Let this client offer what the server must refuse.
    context.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    context.minimum_version = version
    context.maximum_version = version
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        with context.wrap_socket(sock) as tls:
            return tls.version()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_tls_versions_are_refused(server, version):
    # The client offers the old version; the refusal must be the server's alert.
    with pytest.raises(ssl.SSLError, match="ALERT"):
        _handshake(server, version)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_current_tls_versions_are_accepted(server, version):
    assert _handshake(server, version) == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


def test_cbc_only_client_is_refused(server):
    with pytest.raises(ssl.SSLError, match="ALERT"):
        _handshake(server, ssl.TLSVersion.TLSv1_2, CBC_ONLY)
    # The same client with an AEAD cipher gets in: the refusal is about the cipher.
    assert _handshake(server, ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") == "TLSv1.2"


def test_certificate_extensions(server, host, paths):
    text = sh(host, f"openssl x509 -in $(readlink -f {paths['cert']}) -noout -text")
    assert "X509v3 Subject Alternative Name" in text
    assert "TLS Web Server Authentication" in text
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text)


def test_authenticated_post_without_xsrf_is_refused(logged_in):
    response = logged_in.api("POST", "api/kernels", xsrf=False, json={"name": "python3"})
    assert response.status_code == 403


def test_login_next_cannot_leave_the_server(server, client):
    response = client.login(server["password"], next_path="//evil.example/")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.example" not in urlsplit(location).netloc
    assert not location.startswith("//")


def test_cross_origin_requests_get_no_cors_grant(logged_in):
    response = logged_in.get("api/status", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_login_cookies_are_secure_and_httponly(server):
    client = NotebookClient(server["url"], server["ca"])
    response = client.login(server["password"])
    assert response.status_code == 302
    cookies = [c for c in response.raw.headers.getlist("Set-Cookie") if c.lower().startswith("username-")]
    assert cookies, "login set no username-* cookie"
    for cookie in cookies:
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert "secure" in flags and "httponly" in flags, cookie


def test_systemd_exposure_is_low(host, paths):
    report = sh(host, f"systemd-analyze security --no-pager {paths['service']}")
    score = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", report).group(1))
    print(f"\n[figure] {host}: systemd-analyze security {paths['service']}: exposure {score}")
    assert score <= 2.0, report


def test_key_config_and_runtime_dir_modes(host, paths):
    if paths["tls_mode"] == "none":
        pytest.skip("no TLS")
    key = sh(host, f"stat -L -c '%U %a' {paths['key']}").split()
    assert key[0] == "root" and key[1] in ("600", "640")
    runtime = sh(host, f"stat -c '%a' /run/{paths['service']}").strip()
    # jupyter_core adds the sticky bit (1700); nobody but the owner may enter.
    assert int(runtime, 8) & 0o077 == 0, runtime


def test_kernels_can_work_but_not_escalate(logged_in, host, paths):
    code = r'''
import os, subprocess, threading, multiprocessing, tempfile
out = []
t = threading.Thread(target=lambda: out.append("thread"))
t.start(); t.join()
with multiprocessing.Pool(2) as pool:
    out.append("mp%d" % sum(pool.map(abs, [-1, -2])))
with open("nbops-write-test.txt", "w") as fh:
    fh.write("ok")
out.append("rootdir")
os.remove("nbops-write-test.txt")
try:
    open("/usr/nbops-write-test", "w")
    out.append("USR-WRITABLE")
except OSError:
    out.append("usr-readonly")
sudo = subprocess.run(["sudo", "-n", "true"], capture_output=True)
out.append("sudo-refused" if sudo.returncode != 0 else "SUDO-WORKED")
try:
    import numpy
    out.append("numpy%d" % int(numpy.arange(4).sum()))
except ImportError:
    out.append("no-numpy")
print(" ".join(out))
'''
    kernel = logged_in.start_kernel()
    try:
        result = logged_in.execute(kernel, code)
        assert result.status == "ok", result.error
        words = result.stdout.split()
        assert words[:5] == ["thread", "mp3", "rootdir", "usr-readonly", "sudo-refused"], result.stdout
        assert words[5] in ("numpy6", "no-numpy")
    finally:
        logged_in.delete_kernel(kernel)


def test_token_in_the_environment_does_not_open_token_login(server, host, paths):
    """A drop-in that sets JUPYTER_TOKEN must not re-open token login."""
    unit = paths["service"]
    dropin = f"/etc/systemd/system/{unit}.service.d"
    sh(host, f"mkdir -p {dropin} && printf '[Service]\\nEnvironment=JUPYTER_TOKEN=letmein\\n' > {dropin}/token.conf "
             f"&& systemctl daemon-reload && systemctl restart {unit}")
    try:
        client = NotebookClient(server["url"], server["ca"])
        client.wait_until_up()
        assert client.get("api/status?token=letmein").status_code == 403
        assert client.get("api/status", headers={"Authorization": "token letmein"}).status_code == 403
        leaked = sh(host, f"grep -rl letmein /run/{unit} 2>/dev/null; true").split()
        assert leaked == []
    finally:
        sh(host, f"rm -rf {dropin} && systemctl daemon-reload && systemctl restart {unit}")
        NotebookClient(server["url"], server["ca"]).wait_until_up()
