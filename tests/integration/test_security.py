# SPDX-License-Identifier: GPL-3.0-or-later
"""The hardening the role promises, checked from outside (TLS, HTTP) and inside (systemd)."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
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


MODERN = os.environ.get("NB_TLS_PROFILE") == "modern"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_current_tls_versions_are_accepted(server, version):
    if MODERN and version == ssl.TLSVersion.TLSv1_2:
        # Mozilla's modern profile: TLS 1.3 only.
        with pytest.raises(ssl.SSLError, match="ALERT"):
            _handshake(server, version)
        return
    assert _handshake(server, version) == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


@pytest.mark.skipif(MODERN, reason="no TLS 1.2 with the modern profile: nothing to pick ciphers from")
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


@pytest.mark.one_platform(1)
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


def _page_config(client, path):
    import json as _json

    page = client.get(path)
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.text, re.S)
    return _json.loads(match.group(1)) if match else {}


def test_security_headers_on_every_kind_of_page(server, logged_in):
    """The web policy on the login page, a UI page and the API: CSP, Referrer-Policy, nosniff, no
    version in Server; HSTS only where browsers can be made to trust the name (provided)."""
    anonymous = NotebookClient(server["url"], server["ca"])
    for name, response in (("login", anonymous.get("login")), ("tree", logged_in.get("tree")), ("api", logged_in.get("api/status"))):
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, (name, csp)
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0], (name, csp)
        assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"), name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert "tornado" not in headers.get("Server", "").lower(), (name, headers.get("Server"))
        hsts = headers.get("Strict-Transport-Security", "")
        if os.environ.get("NB_TLS_MODE") in ("provided", "private_ca", "acme"):
            assert re.match(r"max-age=(\d+)", hsts) and int(re.match(r"max-age=(\d+)", hsts).group(1)) >= 31536000, (name, hsts)
        else:
            assert hsts == "", f"{name}: HSTS with a self-signed certificate locks users out of the click-through"


def test_every_cookie_is_secure_and_samesite(server):
    client = NotebookClient(server["url"], server["ca"])
    login_page = client.get("login")
    response = client.login(server["password"])
    cookies = login_page.raw.headers.getlist("Set-Cookie") + response.raw.headers.getlist("Set-Cookie")
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert "_xsrf" in names and any(name.startswith("username-") for name in names), cookies
    for cookie in cookies:
        flags = {part.strip().lower().split("=")[0]: part.strip().lower() for part in cookie.split(";")[1:]}
        assert "secure" in flags, cookie
        assert flags.get("samesite") in ("samesite=lax", "samesite=strict"), cookie
        if cookie.startswith("username-"):
            assert "httponly" in flags, cookie


def test_the_ui_offers_no_shut_down(logged_in):
    """quit_button off: no File > Shut Down (and a shutdown through the API comes back anyway)."""
    config = _page_config(logged_in, "tree")
    assert config, "the tree page carries no jupyter-config-data"
    assert config.get("quitButton", False) is False, config.get("quitButton")


def test_certificate_names_are_stable(server, host, paths):
    """The role's certificates: the host's names and loopback, not its interface addresses (which change)."""
    if paths["tls_mode"] not in ("self_signed", "private_ca"):
        pytest.skip("the names of a provided certificate are the user's")
    text = sh(host, f"openssl x509 -in {paths['cert']} -noout -ext subjectAltName")
    addresses = set(re.findall(r"IP Address:([0-9A-Fa-f:.]+)", text))
    assert addresses <= {"127.0.0.1", "0:0:0:0:0:0:0:1"}, text
    interfaces = set(sh(host, "hostname -I").split())
    assert not interfaces & addresses, text


@pytest.mark.parametrize("group", ["X448", "secp521r1"])
def test_key_exchange_groups_outside_the_profile_are_refused(server, group):
    parts = urlsplit(server["url"])
    proc = subprocess.run(["openssl", "s_client", "-connect", f"{parts.hostname}:{parts.port}", "-groups", group,
                           "-servername", "localhost", "-brief"], input="", capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode != 0 and "CONNECTION ESTABLISHED" not in proc.stderr, proc.stderr[-500:]
    ok = subprocess.run(["openssl", "s_client", "-connect", f"{parts.hostname}:{parts.port}", "-groups", "X25519",
                         "-servername", "localhost", "-brief"], input="", capture_output=True, text=True, timeout=30, check=False)
    assert "CONNECTION ESTABLISHED" in ok.stderr, ok.stderr[-500:]
