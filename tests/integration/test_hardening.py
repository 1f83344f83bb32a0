# SPDX-License-Identifier: GPL-3.0-or-later
"""Hardening, round two, as it is met on a running host: stray Jupyter config, a clean shutdown,
a renamed service, a change of certificate names.

Disruptive (restarts, re-converges): runs only in the resilience scenario (NB_RESILIENCE=1).
Every test leaves the host converged and serving."""

from __future__ import annotations

import os
import time

import pytest
from converge import converge
from hostcheck import sh
from nbclient import NotebookClient

pytestmark = pytest.mark.skipif(os.environ.get("NB_RESILIENCE") != "1", reason="resilience scenario only")

VENV = os.environ.get("NB_VENV", "/opt/jupyter-notebook/venv")
WEAKENING = '{"ServerApp": {"disable_check_xsrf": true, "allow_origin": "*"}}'


def _main_pid(host, service):
    return sh(host, f"systemctl show -p MainPID --value {service}").strip()


def _assert_converged(host):
    again = converge(host)
    assert again.rc == 0 and again.changed == 0, again.output[-3000:]


def _xsrf_enforced(server) -> bool:
    client = NotebookClient(server["url"], server["ca"])
    client.wait_until_up()
    assert client.login(server["password"]).status_code == 302
    return client.api("POST", "api/kernels", xsrf=False, json={"name": "python3"}).status_code == 403


@pytest.mark.one_platform(0)
def test_stray_config_is_reported_and_never_read(server, host, paths):
    """Config in the system and user paths (which Notebook would read after the role's) and a
    file no package installed in the venv's etc/jupyter: reported, not read, the venv's removed."""
    strays = ["/etc/jupyter/jupyter_server_config.json", "/usr/local/etc/jupyter/jupyter_server_config.d/weak.json",
              "/var/lib/jupyter-notebook/.local/etc/jupyter/jupyter_server_config.json"]
    venv_stray = f"{VENV}/etc/jupyter/jupyter_server_config.d/zz-weak.json"
    sh(host, " && ".join(f"mkdir -p $(dirname {p}) && echo '{WEAKENING}' > {p}" for p in strays[:2] + [venv_stray]))
    sh(host, f"runuser -u jupyter -- sh -c \"mkdir -p $(dirname {strays[2]}) && echo '{WEAKENING}' > {strays[2]}\"")
    try:
        run = converge(host)
        assert run.rc == 0, run.output[-3000:]
        for path in strays:
            assert path in run.output, f"{path} was not reported:\n{run.output[-3000:]}"
        assert sh(host, f"ls {venv_stray} 2>/dev/null; true").strip() == "", "the venv's stray config is still there"
        sh(host, f"systemctl restart {paths['service']}")
        assert _xsrf_enforced(server), "the server read a stray config that switched XSRF checks off"
    finally:
        sh(host, "rm -rf /etc/jupyter /usr/local/etc/jupyter /var/lib/jupyter-notebook/.local/etc")
    _assert_converged(host)


def test_a_clean_shutdown_comes_back(server, host, paths):
    """File > Shut Down or POST /api/shutdown ends the server with exit 0: Restart=always."""
    client = NotebookClient(server["url"], server["ca"])
    assert client.login(server["password"]).status_code == 302
    before = _main_pid(host, paths["service"])
    assert client.api("POST", "api/shutdown").status_code == 200
    start = time.monotonic()
    deadline = start + 30
    while _main_pid(host, paths["service"]) in (before, "0") and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = NotebookClient(server["url"], server["ca"]).wait_until_up() + (time.monotonic() - start)
    print(f"\n[figure] {host}: POST /api/shutdown to serving again: {elapsed:.1f} s")
    assert _main_pid(host, paths["service"]) not in (before, "0")


@pytest.mark.one_platform(1)
def test_the_health_gate_names_another_server_on_the_port(server, host, paths):
    """Another process holds the port while the server is down (here a plain HTTP server as
    root): the restarted server can't bind. The gate must fail naming the process that holds
    the port, not pass on an answer from it. (Another instance of this role on the same port is
    refused before any change: test_instances.py.)"""
    squatter = "nbops-squatter"
    sh(host, f"systemctl stop {paths['service']} && systemd-run --unit {squatter} "
             f"python3 -m http.server {server['port']} --bind 0.0.0.0 && sleep 1")
    try:
        pid = sh(host, f"systemctl show -p MainPID --value {squatter}").strip()
        run = converge(host, {"notebook_health_timeout": 15}, timeout=600)
        assert run.rc != 0, run.output[-3000:]
        assert f"is held by PID {pid} ({squatter}.service)" in run.output, run.output[-3000:]
    finally:
        sh(host, f"systemctl stop {squatter} 2>/dev/null; systemctl reset-failed {squatter} 2>/dev/null; true")
    assert converge(host).rc == 0
    NotebookClient(server["url"], server["ca"]).wait_until_up()


@pytest.mark.one_platform(0)
def test_a_change_of_names_alone_keeps_the_key(server, host, paths):
    def spki():
        return sh(host, f"openssl x509 -in {paths['cert']} -noout -pubkey")

    def fingerprint():
        return sh(host, f"openssl x509 -in {paths['cert']} -noout -fingerprint -sha256")

    key, cert = spki(), fingerprint()
    try:
        run = converge(host, {"notebook_tls_extra_names": ["nb-extra.example.org"]})
        assert run.rc == 0 and "names changed" in run.output, run.output[-3000:]
        assert "DNS:nb-extra.example.org" in sh(host, f"openssl x509 -in {paths['cert']} -noout -ext subjectAltName")
        assert spki() == key, "a change of names made a new key"
        assert fingerprint() != cert
    finally:
        assert converge(host).rc == 0
    assert spki() == key
    if server["ca"]:
        with open(server["ca"], "w", encoding="ascii") as fh:
            fh.write(sh(host, f"cat {paths['cert']}"))
    _assert_converged(host)
