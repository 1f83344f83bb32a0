# SPDX-License-Identifier: GPL-3.0-or-later
"""_health against a real HTTPS server on 127.0.0.1 (this test process, or a child), with the
unit's state from systemd replaced by what the test says the unit is."""

from __future__ import annotations

import http.server
import json
import os
import ssl
import subprocess
import sys
import threading

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _health, _tls


class Api(http.server.BaseHTTPRequestHandler):
    version = "2.17.0"
    status_code = 403

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/api":
            body, code = json.dumps({"version": self.version}).encode(), 200
        elif self.path == "/api/status":
            body, code = b"{}", self.status_code
        else:
            body, code = b"", 404
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(tls_files):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, tls_files))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    Api.version, Api.status_code = "2.17.0", 403


@pytest.fixture
def unit(monkeypatch):
    """The unit is active and this test process is its main process."""
    state = {"ActiveState": "active", "SubState": "running", "MainPID": str(os.getpid()), "NRestarts": "0"}
    monkeypatch.setattr(_health, "service_state", lambda service: state)
    return state


def test_everything_a_user_needs_passes(server, unit, tls_files):
    passed, problem, seen = _health.check_once(f"https://127.0.0.1:{server}/api", "nb", server, str(tls_files[0]), "2.17.0")
    assert passed, problem
    assert seen["version"] == "2.17.0" and seen["anonymous_status"] == 403
    assert seen["fingerprint_sha256"] == _tls.fingerprint(str(tls_files[0]))


def test_another_version_means_another_server(server, unit, tls_files):
    Api.version = "2.3.0"
    passed, problem, _seen = _health.check_once(f"https://127.0.0.1:{server}/api", "nb", server, str(tls_files[0]), "2.17.0")
    assert not passed and "answers version 2.3.0, not the 2.17.0 installed" in problem


def test_an_api_open_to_anybody_fails(server, unit, tls_files):
    Api.status_code = 200
    passed, problem, _seen = _health.check_once(f"https://127.0.0.1:{server}/api", "nb", server, str(tls_files[0]), "")
    assert not passed and "anonymous caller instead of 403" in problem


def test_a_certificate_other_than_the_deployed_one_fails(server, unit, tmp_path):
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "2",
                    "-subj", "/CN=other", "-keyout", str(tmp_path / "other.key"), "-out", str(other)], check=True, capture_output=True)
    passed, problem, _seen = _health.check_once(f"https://127.0.0.1:{server}/api", "nb", server, str(other), "")
    assert not passed and "is not the one deployed" in problem


def test_a_unit_that_is_not_active_fails(server, unit, tls_files):
    unit.update(ActiveState="activating", SubState="auto-restart")
    passed, problem, _seen = _health.check_once(f"https://127.0.0.1:{server}/api", "nb", server, str(tls_files[0]), "")
    assert not passed and problem == "nb is activating/auto-restart"


def test_a_port_held_by_another_process_is_named(server, unit, tls_files):
    """The unit's main process is a child that holds no socket; the port is this process's."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        unit["MainPID"] = str(child.pid)
        passed, problem, _seen = _health.check_once(f"https://127.0.0.1:{server}/api", "nb", server, str(tls_files[0]), "")
        assert not passed
        assert f"port {server} is held by PID {os.getpid()}" in problem and f"not by nb (PID {child.pid})" in problem
    finally:
        child.kill()
        child.wait()


def test_wait_reports_the_holder_it_saw_while_the_unit_crash_loops(server, unit, tls_files, monkeypatch):
    states = iter([{"ActiveState": "active", "MainPID": "1"}] + [{"ActiveState": "activating", "SubState": "auto-restart"}] * 50)
    monkeypatch.setattr(_health, "service_state", lambda service: next(states))
    result = _health.wait(f"https://127.0.0.1:{server}/api", "nb", server, str(tls_files[0]), "", timeout=0.3, delay=0.05)
    assert not result["passed"] and " is held by " in result["problem"]


def test_server_files_of_both_notebook_generations_name_their_unit(tmp_path):
    """Where root may not read another user's descriptors, the servers' own files tell who listens."""
    for unit, name, port in (("jupyter-notebook", "jpserver", 8888), ("nb6", "nbserver", 8888), ("other", "jpserver", 9999)):
        (tmp_path / unit).mkdir()
        (tmp_path / unit / f"{name}-{os.getpid()}.json").write_text(json.dumps({"port": port, "pid": os.getpid()}))
    found = _health._server_files(8888, root=str(tmp_path))
    assert found == {os.getpid(): "nb6.service"} or found == {os.getpid(): "jupyter-notebook.service"}
    assert _health._server_files(7777, root=str(tmp_path)) == {}


def test_behind_a_proxy_the_socket_is_the_unit_s_and_the_port_the_proxy_s(server, unit, tls_files, tmp_path):
    """This process is both the unit's main process (it listens on the Unix socket) and the
    proxy's (it holds the port); a socket nobody listens on is named."""
    import socket as _socket

    path = str(tmp_path / "jupyter.sock")
    url, cert = f"https://127.0.0.1:{server}/api", str(tls_files[0])
    passed, problem, _seen = _health.check_once(url, "nb", server, cert, "", socket=path, proxy_service="nginx")
    assert not passed and problem == f"nothing listens on {path} yet"
    listener = _socket.socket(_socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    try:
        assert _health._unix_listening_inodes(path) == {str(os.fstat(listener.fileno()).st_ino)}
        passed, problem, _seen = _health.check_once(url, "nb", server, cert, "", socket=path, proxy_service="nginx")
        assert passed, problem
    finally:
        listener.close()


def test_unix_listening_inodes_reads_only_listening_stream_sockets(tmp_path):
    table = tmp_path / "unix"
    table.write_text(
        "Num       RefCount Protocol Flags    Type St Inode Path\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 111 /run/a.sock\n"
        "0000000000000000: 00000002 00000000 00000000 0001 03 222 /run/a.sock\n"
        "0000000000000000: 00000002 00000000 00010000 0002 01 333 /run/a.sock\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 444 /run/a sock with spaces\n"
        "0000000000000000: 00000002 00000000 00000000 0001 03 555\n"
    )
    assert _health._unix_listening_inodes("/run/a.sock", str(table)) == {"111"}
    assert _health._unix_listening_inodes("/run/a sock with spaces", str(table)) == {"444"}
