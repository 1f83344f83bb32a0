# SPDX-License-Identifier: GPL-3.0-or-later
"""Failures a server meets in production, and what the role and the unit do about them.

Disruptive (restarts, re-converges): runs only in the resilience scenario (NB_RESILIENCE=1).
Every test leaves the host converged and serving."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from converge import PLAYBOOK, command, converge
from hostcheck import sh
from nbclient import NotebookClient

pytestmark = pytest.mark.skipif(os.environ.get("NB_RESILIENCE") != "1", reason="resilience scenario only")


def _main_pid(host, service):
    return sh(host, f"systemctl show -p MainPID --value {service}").strip()


def _fingerprint_served(server):
    import hashlib
    import ssl
    from urllib.parse import urlsplit

    parts = urlsplit(server["url"])
    pem = ssl.get_server_certificate((parts.hostname, parts.port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def _fingerprint_file(host, path):
    out = sh(host, f"openssl x509 -in {path} -noout -fingerprint -sha256")
    return out.split("=", 1)[1].strip().replace(":", "").lower()


def _refresh_ca(server, host, paths):
    """After the role made a new self-signed certificate, trust that one (as a user would after
    checking its fingerprint): rewrite the CA file the other tests use."""
    if server["ca"] and paths["tls_mode"] == "self_signed":
        with open(server["ca"], "w", encoding="ascii") as fh:
            fh.write(sh(host, f"cat {paths['cert']}"))


def _assert_converged(host):
    again = converge(host)
    assert again.rc == 0 and again.changed == 0, again.output[-3000:]


def test_sigkill_serves_again_within_10s(server, host, paths):
    client = NotebookClient(server["url"], server["ca"])
    before = _main_pid(host, paths["service"])
    sh(host, f"systemctl kill -s KILL {paths['service']}")
    # The old process is gone before we start the clock on the new one.
    deadline = time.monotonic() + 10
    while _main_pid(host, paths["service"]) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = client.wait_until_up(timeout=30)
    print(f"\n[figure] {host}: SIGKILL to serving again: {elapsed:.1f} s")
    assert elapsed <= 10


def test_kernel_over_memory_max_dies_server_stays(server, logged_in, host, paths):
    limit = os.environ.get("NB_MEMORY_MAX", "")
    if not limit:
        pytest.skip("no notebook_memory_max in this scenario")
    pid = _main_pid(host, paths["service"])
    kernel = logged_in.start_kernel()
    try:
        # Twice the limit, every page written.
        code = "blocks = [bytes(64 * 1024 * 1024) + b'x' for _ in range(64)]\nprint('survived')"
        result = logged_in.execute(kernel, code, timeout=120)
        assert "survived" not in result.stdout, "a kernel used 4 GiB under notebook_memory_max"
        assert result.status == "died", f"expected the kernel to be killed, got {result.status}: {result.error}"
        assert logged_in.get("api/status").status_code == 200
        assert _main_pid(host, paths["service"]) == pid, "the server was restarted, not just the kernel"
        journal = sh(host, f"journalctl -u {paths['service']} --no-pager -o cat | tail -n 200")
        assert "restarting kernel" in journal
        print(f"\n[figure] {host}: a kernel over notebook_memory_max={limit} was killed; server PID {pid} kept serving")
    finally:
        logged_in.delete_kernel(kernel)


def test_certificate_near_expiry_is_renewed_then_left_alone(server, host, paths):
    live = sh(host, f"readlink -f {paths['cert']}").strip()
    key = sh(host, f"readlink -f {paths['key']}").strip()
    # Rewritten in place, so owner and mode stay what the role set.
    sh(host, f"openssl req -x509 -key {key} -out /tmp/expiring.pem -days 1 -subj /CN=expiring 2>/dev/null "
             f"&& cat /tmp/expiring.pem > {live}")
    expiring = _fingerprint_file(host, paths["cert"])
    run = converge(host)
    assert run.rc == 0 and run.changed >= 1, run.output[-3000:]
    assert "Make a self-signed certificate (expires within notebook_tls_renew_days" in run.output
    _refresh_ca(server, host, paths)
    renewed = _fingerprint_file(host, paths["cert"])
    assert renewed != expiring
    assert sh(host, f"openssl x509 -in {paths['cert']} -noout -checkend {300 * 86400}").strip() == "Certificate will not expire"
    # Served without a restart: tornado reads the files on each new connection.
    assert _fingerprint_served(server) == renewed
    _assert_converged(host)


def test_deleted_key_is_made_again(server, host, paths):
    sh(host, f"rm -f $(readlink -f {paths['key']})")
    run = converge(host)
    assert run.rc == 0 and run.changed >= 1, run.output[-3000:]
    assert "Make a self-signed certificate (certificate or key missing)" in run.output
    _refresh_ca(server, host, paths)
    assert _fingerprint_served(server) == _fingerprint_file(host, paths["cert"])
    NotebookClient(server["url"], server["ca"]).wait_until_up()
    _assert_converged(host)


def test_busy_port_fails_loudly_and_never_moves(server, host, paths):
    port = server["port"]
    sh(host, f"systemctl stop {paths['service']} && systemd-run --unit nbops-squatter "
             f"python3 -m http.server {port} --bind 0.0.0.0 >/dev/null 2>&1 && sleep 1")
    try:
        run = converge(host, {"notebook_health_timeout": 8})
        assert run.rc != 0
        assert "did not answer" in run.output and "already in use" in run.output.lower(), run.output[-3000:]
        listening = sh(host, "ss -ltnpH | grep -i jupyter || true").strip()
        assert listening == "", f"the server listens elsewhere: {listening}"
    finally:
        sh(host, "systemctl stop nbops-squatter 2>/dev/null; true")
    run = converge(host)
    assert run.rc == 0, run.output[-3000:]
    NotebookClient(server["url"], server["ca"]).wait_until_up()


def test_converge_killed_during_install_is_healed(server, host, paths):
    venv = os.environ.get("NB_VENV", "/opt/jupyter-notebook/venv")
    sh(host, f"systemctl stop {paths['service']}; rm -rf {venv}")
    proc = subprocess.Popen(command(PLAYBOOK, None, "", limit=host), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            # [p]ip: the pattern must not match the shell that runs pgrep.
            if sh(host, f"pgrep -f '{venv}/bin/[p]ip install' || true").strip():
                break
            time.sleep(0.5)
        else:
            pytest.fail("pip install never started")
        time.sleep(3)  # well into downloading and unpacking
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # What a crash of the host or the connection leaves: pip dead mid-install.
        sh(host, f"pkill -9 -f '{venv}/bin/[p]ip install' || true")
    run = converge(host)
    assert run.rc == 0, run.output[-3000:]
    client = NotebookClient(server["url"], server["ca"])
    client.wait_until_up()
    assert client.login(server["password"]).status_code == 302
    kernel = client.start_kernel()
    try:
        assert client.execute(kernel, "print(1 + 1)").stdout.strip() == "2"
    finally:
        client.delete_kernel(kernel)
    _assert_converged(host)


def test_new_password_logs_out_old_sessions(server, host):
    old = NotebookClient(server["url"], server["ca"])
    assert old.login(server["password"]).status_code == 302
    new_password = server["password"] + "-rotated"
    try:
        # As verbose as Ansible gets, with diffs: neither password may show.
        run = converge(host, {"notebook_password": new_password}, args=("-vvv", "--diff"))
        assert run.rc == 0 and run.changed >= 1, run.output[-3000:]
        assert old.get("api/status").status_code == 403, "an old session cookie still works"
        assert NotebookClient(server["url"], server["ca"]).login(server["password"]).status_code == 401
        assert NotebookClient(server["url"], server["ca"]).login(new_password).status_code == 302
        assert new_password not in run.output and server["password"] not in run.output
    finally:
        assert converge(host).rc == 0


BAD_INPUTS = [
    ({"notebook_password": ""}, "notebook_password"),
    ({"notebook_password_hash": "argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdA$aGFzaA"}, "notebook_password"),
    ({"notebook_port": "https"}, "notebook_port"),
    ({"notebook_port": 0}, "notebook_port"),
    ({"notebook_port": 70000}, "notebook_port"),
    ({"notebook_tls_mode": "letsencrypt"}, "notebook_tls_mode"),
    ({"notebook_tls_mode": "provided"}, "notebook_tls_cert"),
    ({"notebook_tls_mode": "provided", "notebook_tls_cert": "/nonexistent.pem", "notebook_tls_key": "/nonexistent.key"}, "notebook_tls_cert"),
    ({"notebook_tls_mode": "none"}, "notebook_tls_none_acknowledged"),
    ({"notebook_tls_valid_days": 826}, "notebook_tls_valid_days"),
    ({"notebook_user": "root"}, "notebook_user"),
    ({"notebook_version": "5.7.8"}, "notebook_version"),
    ({"notebook_uv_version": "latest"}, "notebook_uv_version"),
]


def test_bad_input_fails_before_any_change(host, paths):
    before = sh(host, f"sha256sum {paths['config']}/*.json /etc/systemd/system/{paths['service']}.service")
    results = []
    for extra, variable in BAD_INPUTS:
        run = converge(host, extra, timeout=300)
        results.append((variable, run.rc, run.changed))
        assert run.rc != 0, f"{extra} was accepted"
        assert run.changed == 0, f"{extra} changed something before failing"
        assert variable in run.output, f"{extra}: the error does not name {variable}:\n{run.output[-2000:]}"
    assert sh(host, f"sha256sum {paths['config']}/*.json /etc/systemd/system/{paths['service']}.service") == before
    print(f"\n[figure] {host}: {len(results)} bad inputs refused before any change")


def test_hand_edits_are_put_back_and_the_server_restarted(server, host, paths):
    """The converged run reads checksums, owners and modes instead of running the template and
    file tasks: drift in any of them must still be found and undone."""
    unit = f"/etc/systemd/system/{paths['service']}.service"
    config = sh(host, f"ls {paths['config']}/*.json").split()[0]
    pid = _main_pid(host, paths["service"])
    sh(host, f"sed -i 's/^RestartSec=.*/RestartSec=30/' {unit} && chmod 0644 {config} "
             f"&& echo 'c.ServerApp.port = 1' > {paths['config']}/jupyter_notebook_config.py "
             f"&& chmod 0777 {paths['config']}/migrated")
    run = converge(host)
    assert run.rc == 0 and run.changed >= 4, run.output[-3000:]
    assert "RestartSec=30" not in sh(host, f"cat {unit}")
    assert sh(host, f"stat -c %a {config} {paths['config']}/migrated").split() == ["640", "640"]
    assert sh(host, f"ls {paths['config']}").split().count("jupyter_notebook_config.py") == 0
    assert _main_pid(host, paths["service"]) != pid, "the server was not restarted after its config changed"
    NotebookClient(server["url"], server["ca"]).wait_until_up()
    _assert_converged(host)
