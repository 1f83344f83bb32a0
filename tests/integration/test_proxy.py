# SPDX-License-Identifier: GPL-3.0-or-later
"""Behind Debian's nginx (notebook_proxy: nginx, the proxy scenario, NB_PROXY=1): login and a kernel
over the websocket through nginx under base_url /nb/, the browser test, the server's socket closed
to everyone but nginx (and no port of its own), the client address fail2ban bans being nginx's
peer and not what a client claims, the HTTP redirect, another site left alone, a broken nginx
config elsewhere stopping the role before anything goes live, and the switch back to direct
serving and to nginx again. The shared tests (TLS versions, ciphers, groups, headers, cookies)
and the scanners run against nginx in this scenario too: NB_URL is nginx's port."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from converge import converge
from hostcheck import run, sh
from nbclient import NotebookClient

pytestmark = pytest.mark.skipif(os.environ.get("NB_PROXY") != "1", reason="the proxy scenario runs the reverse proxy tests")
REPO = Path(__file__).resolve().parents[2]
SERVICE = os.environ.get("NB_SERVICE", "jupyter-notebook")
SITE = f"/etc/nginx/conf.d/nbops-{SERVICE}.conf"
PROXY_DIR = f"/var/lib/nbops-jupyter-proxy/{SERVICE}"
SOCKET = f"{PROXY_DIR}/socket/jupyter.sock"
# Connect to a Unix socket and send one request: prints the status line, or the error's name.
CONNECT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
    s.sendall(b"GET /nb/api HTTP/1.0\r\nHost: localhost\r\n\r\n")
    print(s.recv(100).split(b"\r\n")[0].decode())
except OSError as e:
    print(type(e).__name__)
"""


def _published(host: str, port: int) -> str:
    return subprocess.run(["docker", "port", host, f"{port}/tcp"], capture_output=True, text=True, check=True).stdout.split()[0]


def _runs_code(client: NotebookClient, password: str) -> None:
    assert client.login(password).status_code == 302
    kernel = client.start_kernel()
    try:
        assert client.execute(kernel, "print(6 * 7)").stdout.strip() == "42"
    finally:
        client.delete_kernel(kernel)


def _connect_as(host: str, user: str, path: str) -> str:
    return run(host, "runuser", "-u", user, "--", "python3", "-c", CONNECT, path).stdout.strip()


def test_login_and_a_kernel_over_the_websocket_through_nginx(server, client):
    assert urlsplit(server["url"]).path == "/nb/"
    response = client.get("login")
    assert response.status_code == 200 and response.headers.get("Server") == "nginx", response.headers
    _runs_code(client, server["password"])


def test_nginx_alone_listens_and_the_socket_is_nginx_s_alone(host):
    """No TCP port of the server's own (from outside there is nothing but nginx to connect to); its
    socket refuses another local user and the service account's own path games, and lets www-data in."""
    listeners = sh(host, "ss -Hltnp")
    assert listeners and all("nginx" in line for line in listeners.splitlines()), listeners
    owner = sh(host, f"stat -c '%U %G %a' {SOCKET}").split()
    assert owner == ["jupyter", "www-data", "660"], owner
    # Root's directories: the outer one shuts everybody but root and www-data out.
    expected = ["root", "www-data", "750", "root", "www-data", "3713"]
    assert sh(host, f"stat -c '%U %G %a' {PROXY_DIR} {PROXY_DIR}/socket").split() == expected
    assert _connect_as(host, "nobody", SOCKET) == "PermissionError"
    assert _connect_as(host, "www-data", SOCKET) == "HTTP/1.1 200 OK"


def test_the_service_account_cannot_steer_nginx_s_socket_path(server, logged_in, host):
    """Code in a kernel (the service account) can't rename or chmod the directories nginx goes
    through; with fs.protected_symlinks, nginx won't follow a link it plants for the socket."""
    kernel = logged_in.start_kernel()
    try:
        code = (
            "import os\n"
            f"for call in (lambda: os.listdir({PROXY_DIR!r}), lambda: os.chmod('/run/{SERVICE}/proxy', 0o777),\n"
            f"             lambda: os.rename('/run/{SERVICE}/proxy', '/run/{SERVICE}/moved')):\n"
            "    try:\n"
            "        call(); print('allowed')\n"
            "    except OSError as e:\n"
            "        print(type(e).__name__)\n"
        )
        out = logged_in.execute(kernel, code).stdout.split()
    finally:
        logged_in.delete_kernel(kernel)
    assert len(out) == 3 and "allowed" not in out, out
    if sh(host, "cat /proc/sys/fs/protected_symlinks").strip() != "1":
        pytest.skip("fs.protected_symlinks is 0 on this machine's kernel (Debian hosts have 1): a link the "
                    "service account plants would be followed, which the role warns about")
    sh(host, f"runuser -u jupyter -- ln -s /run/nope.sock {PROXY_DIR}/socket/planted.sock")
    try:
        assert _connect_as(host, "www-data", f"{PROXY_DIR}/socket/planted.sock") == "PermissionError"
    finally:
        sh(host, f"rm -f {PROXY_DIR}/socket/planted.sock")


def test_the_address_fail2ban_sees_is_nginx_s_peer_not_what_the_client_claims(server, client, host):
    """The server trusts X-Real-IP/X-Forwarded-For from nginx, which replaces the client's: a failed
    login is logged with the address nginx saw, which the jail bans on notebook_port (nginx's)."""
    forged = "203.0.113.9"
    client.session.headers.update({"X-Real-IP": forged, "X-Forwarded-For": forged})
    marker = sh(host, "date -u '+%Y-%m-%d %H:%M:%S'").strip()
    assert client.login(server["password"] + "-wrong").status_code == 401
    peer = sh(host, "tail -n 1 /var/log/nginx/access.log").split()[0]
    lines = ""
    for _attempt in range(20):
        lines = sh(host, f"journalctl -u {SERVICE} --since '{marker}' --no-pager -o short | grep ' 401 POST /nb/login' || true")
        if lines:
            break
        sh(host, "sleep 0.5")
    assert f"(@{peer})" in lines and forged not in lines, (peer, lines)
    jail = sh(host, f"fail2ban-client status {SERVICE}", check=False)
    if "Currently failed" in jail:
        line = lines.strip().splitlines()[-1]
        found = sh(host, f"fail2ban-regex --out ip {shlex.quote(line)} /etc/fail2ban/filter.d/{SERVICE}.conf").split()
        assert found == [peer], found


def test_plain_http_is_redirected_to_https(host):
    response = requests.get(f"http://{_published(host, 80)}/nb/tree?x=1", allow_redirects=False, timeout=10)
    assert response.status_code == 301, response.status_code
    assert response.headers["Location"] == "https://127.0.0.1:8888/nb/tree?x=1", response.headers["Location"]


def test_the_other_sites_are_still_served(host):
    probe = "import urllib.request as u, sys; print(u.urlopen(u.Request(sys.argv[1], headers={'Host': 'other'})).read().decode())"
    assert run(host, "python3", "-c", probe, "http://127.0.0.1:8080/").stdout.strip() == "the other site"
    assert "Welcome to nginx" in run(host, "python3", "-c", probe, "http://127.0.0.1/").stdout
    assert sh(host, "test -e /etc/nginx/sites-enabled/default && test -e /etc/nginx/sites-enabled/other-site && echo kept").strip() == "kept"


def test_the_browser_logs_in_and_runs_a_cell_through_nginx(server, tmp_path):
    if os.environ.get("NB_FIRST_HOST") != "1":
        pytest.skip("the browser runs on the first host only: both hosts' nginx answer the same pages, and the "
                    "kernel's websocket through each nginx is tested above")
    password = tmp_path / "password"
    password.write_text(server["password"])
    password.chmod(0o600)
    tests = REPO / "tests" / "browser" / "test_first_login.py"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
         f"{tests}::test_log_in_and_see_the_file_browser", f"{tests}::test_log_in_create_a_notebook_and_run_a_cell",
         f"{tests}::test_no_csp_violation_anywhere"],
        env={**os.environ, "NB_URL": server["url"], "NB_PASSWORD_FILE": str(password), "NB_CA": server["ca"],
             "NB_SCREENSHOT": str(tmp_path / "proxy-login.png")},
        capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


@pytest.mark.one_platform(1)
def test_a_broken_nginx_config_elsewhere_stops_the_role_before_anything_goes_live(server, client, host):
    """A site change the role can't make live without breaking nginx (here because of somebody
    else's broken file) fails the run before its file is replaced; nginx keeps serving."""
    before = sh(host, f"sha1sum {SITE}; systemctl show -p MainPID --value nginx")
    sh(host, "printf 'this is not nginx;\\n' > /etc/nginx/conf.d/zz-broken.conf")
    try:
        # A change of the role's site: no redirect.
        result = converge(host, {"notebook_proxy_http_redirect": False})
        assert result.rc != 0 and result.failed >= 1, result.output[-3000:]
        assert "Write the nginx site" in result.output, result.output[-3000:]
        assert sh(host, f"sha1sum {SITE}; systemctl show -p MainPID --value nginx") == before
        _runs_code(client, server["password"])
    finally:
        sh(host, "rm -f /etc/nginx/conf.d/zz-broken.conf")


@pytest.mark.one_platform(0)
def test_back_to_serving_itself_then_behind_nginx_again(server, host):
    """notebook_proxy none takes the site and the socket's directories away and the server serves
    TLS on notebook_port itself (nginx and its other sites stay); nginx again puts it back."""
    alone = converge(host, {"notebook_proxy": "none"})
    assert alone.rc == 0, alone.output[-3000:]
    assert sh(host, f"ls {SITE} {PROXY_DIR} 2>&1 || true").count("No such file") == 2
    assert sh(host, "systemctl is-active nginx").strip() == "active"
    direct = NotebookClient(server["url"], server["ca"])
    assert direct.get("login").headers.get("Server") == "Jupyter"
    _runs_code(direct, server["password"])
    listener = sh(host, "ss -Hltnp 'sport = :8888'")
    assert listener and "nginx" not in listener, listener

    again = converge(host)
    assert again.rc == 0, again.output[-3000:]
    behind = NotebookClient(server["url"], server["ca"])
    assert behind.get("login").headers.get("Server") == "nginx"
    _runs_code(behind, server["password"])
    assert re.search(r"nginx", sh(host, "ss -Hltnp 'sport = :8888'"))
