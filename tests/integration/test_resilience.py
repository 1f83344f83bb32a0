# SPDX-License-Identifier: GPL-3.0-or-later
"""Failures a server meets in production, and what the role and the unit do about them.

Disruptive (restarts, re-converges): runs only in the resilience scenario (NB_RESILIENCE=1).
Every test leaves the host converged and serving."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from converge import PLAYBOOK, command, converge, converge_each
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
    elapsed = client.wait_until_up()
    print(f"\n[figure] {host}: SIGKILL to serving again: {elapsed:.1f} s")
    # RestartSec=2 and a start of 2-6 s alone; under make test's load it has taken over 30 s, so
    # the bound (wait_until_up's) only catches "never".


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


@pytest.mark.one_platform(1)
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
    # Made for notebook_tls_valid_days (200 by default), well past the renewal window.
    assert sh(host, f"openssl x509 -in {paths['cert']} -noout -checkend {150 * 86400}").strip() == "Certificate will not expire"
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


@pytest.mark.one_platform(0)
def test_busy_port_fails_loudly_and_never_moves(server, host, paths):
    port = server["port"]
    sh(host, f"systemctl stop {paths['service']} && systemd-run --unit nbops-squatter "
             f"python3 -m http.server {port} --bind 0.0.0.0 >/dev/null 2>&1 && sleep 1")
    try:
        run = converge(host, {"notebook_health_timeout": 8})
        assert run.rc != 0
        # The gate names who holds the port.
        assert "did not pass the health gate" in run.output and "nbops-squatter.service" in run.output, run.output[-3000:]
        listening = sh(host, "ss -ltnpH | grep -i jupyter || true").strip()
        assert listening == "", f"the server listens elsewhere: {listening}"
    finally:
        sh(host, "systemctl stop nbops-squatter 2>/dev/null; true")
    run = converge(host)
    assert run.rc == 0, run.output[-3000:]
    NotebookClient(server["url"], server["ca"]).wait_until_up()


@pytest.mark.one_platform(0)
def test_a_server_whose_login_throttling_cant_start_is_stopped_again(server, host, paths):
    """fail2ban starts beside the server, off the way to its first answer: where it can't start, the
    server this run started must not stay up without its login throttling."""
    service = paths["service"]
    # The resilience scenario's defaults listen beyond loopback: login throttling is on there.
    if not sh(host, f"test -f /etc/fail2ban/jail.d/{service}.conf && echo deployed || true").strip():
        pytest.skip("this deployment has no login throttling")
    dropin = "/etc/systemd/system/fail2ban.service.d/nbops-test-broken.conf"
    sh(host, f"mkdir -p {os.path.dirname(dropin)} && printf '[Service]\\nExecStartPre=/bin/false\\n' > {dropin} "
             f"&& systemctl daemon-reload && systemctl stop fail2ban {service}")
    try:
        run = converge(host)
        assert run.rc != 0, run.output[-3000:]
        failure = _failure(run.output)
        assert "fail2ban did not start" in failure and "which is stopped again" in failure, run.output[-3000:]
        assert sh(host, f"systemctl is-active {service} || true").strip() != "active"
    finally:
        sh(host, f"rm -f {dropin} && systemctl daemon-reload && systemctl reset-failed fail2ban; true")
    run = converge(host)
    assert run.rc == 0, run.output[-3000:]
    assert sh(host, "systemctl is-active fail2ban").strip() == "active"
    assert service in sh(host, "fail2ban-client status")
    NotebookClient(server["url"], server["ca"]).wait_until_up()
    _assert_converged(host)


def test_fail2ban_the_run_installs_loads_the_jail(server, host, paths):
    """Debian's package starts fail2ban as apt installs it, before the role writes the jail: the
    run must still leave the jail loaded (and a second run find nothing to do). Both releases: the
    package's own start works on one and not on the other."""
    service = paths["service"]
    if not sh(host, f"test -f /etc/fail2ban/jail.d/{service}.conf && echo deployed || true").strip():
        pytest.skip("this deployment has no login throttling")
    sh(host, f"DEBIAN_FRONTEND=noninteractive apt-get purge -y -q fail2ban >/dev/null && "
             f"rm -f /etc/fail2ban/jail.d/{service}.conf /etc/fail2ban/filter.d/{service}.conf")
    run = converge(host)
    assert run.rc == 0, run.output[-3000:]
    assert sh(host, "systemctl is-active fail2ban").strip() == "active"
    assert service in sh(host, "fail2ban-client status"), "the jail isn't loaded"
    NotebookClient(server["url"], server["ca"]).wait_until_up()
    _assert_converged(host)


@pytest.mark.one_platform(1)
def test_converge_killed_during_install_is_healed(server, host, paths):
    venv = os.environ.get("NB_VENV", "/opt/jupyter-notebook/venv")
    # [p]/[u]: the pattern must not match the shell that runs pgrep.
    installer = f"{venv}/bin/[p]ip install" if os.environ.get("NB_INSTALLER") == "pip" else f"{venv}/bin/[u]v pip install"
    sh(host, f"systemctl stop {paths['service']}; rm -rf {venv}")
    proc = subprocess.Popen(command(PLAYBOOK, None, "", limit=host), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if sh(host, f"pgrep -f '{installer}' || true").strip():
                break
            time.sleep(0.2)
        else:
            pytest.fail("the installer never started")
        time.sleep(1.5)  # into downloading and unpacking
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # What a crash of the host or the connection leaves: the installer dead mid-install.
        sh(host, f"pkill -9 -f '{installer}' || true")
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


@pytest.mark.one_platform(0)
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


HASH = "argon2:$argon2id$v=19$m=10240,t=10,p=8$bmJvcHMtdGVzdC1zYWx0$Vt0rQ9bqfj2x0T1fBSuiJ8WSNfrgr0Mz1dQ8e8XTqnA"
_ACME = {"notebook_tls_mode": "acme", "notebook_acme_terms_agreed": True}
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
    # Round two: inputs that passed validation and should not have.
    ({"notebook_root_dir": "/var/lib/jupyter-notebook/notebooks\nExecStartPre=+/bin/sh -c 'touch /pwned'"}, "notebook_root_dir"),
    ({"notebook_root_dir": "/srv/my notebooks"}, "notebook_root_dir"),
    ({"notebook_home": "/srv/jupyter%h"}, "notebook_home"),
    ({"notebook_config_dir": "/etc/"}, "notebook_config_dir"),
    ({"notebook_config_dir": "/etc/jupyter-notebook/../../etc"}, "notebook_config_dir"),
    ({"notebook_home": "/home"}, "notebook_home"),
    ({"notebook_home": "/srv"}, "notebook_home"),
    ({"notebook_root_dir": "/tmp/notebooks"}, "notebook_root_dir"),
    ({"notebook_venv": "/var/lib/jupyter-notebook/venv"}, "notebook_venv"),
    ({"notebook_config_dir": "/var/lib/jupyter-notebook/notebooks/conf"}, "notebook_config_dir"),
    ({"notebook_password": "", "notebook_password_hash": HASH + "\n"}, "notebook_password_hash"),
    ({"notebook_extra_packages": ["./wheels/numpy-2.0-py3-none-any.whl"]}, "notebook_extra_packages"),
    ({"notebook_extra_packages": ["git+https://example.org/x/y.git"]}, "notebook_extra_packages"),
    ({"notebook_extra_packages": ["--index-url=https://example.org/simple"]}, "notebook_extra_packages"),
    ({"notebook_extra_packages": ["numpy @ https://example.org/numpy.whl"]}, "notebook_extra_packages"),
    ({"notebook_memory_max": "150%"}, "notebook_memory_max"),
    ({"notebook_memory_max": "2 G"}, "notebook_memory_max"),
    ({"notebook_tls_key_type": "rsa", "notebook_tls_rsa_bits": 65536}, "notebook_tls_rsa_bits"),
    ({"notebook_tls_renew_days": 199}, "notebook_tls_renew_days"),
    ({"notebook_tls_renew_days": 0}, "notebook_tls_renew_days"),
    ({"notebook_tls_valid_days": 397}, "notebook_tls_valid_days"),
    ({"notebook_tls_ciphers": ["ECDHE-ECDSA-AES128-GCM-SHA265", "ECDHE-RSA-AES128-GCM-SHA256"]}, "notebook_tls_ciphers"),
    ({"notebook_server_config": {"ServerApp": {"disable_check_xsrf": True}}}, "notebook_server_config_unsafe_acknowledged"),
    ({"notebook_server_config": {"PasswordIdentityProvider": {"password_required": False}}}, "notebook_server_config_unsafe_acknowledged"),
    ({"notebook_server_config": {"IdentityProvider": {"token": "letmein"}}}, "notebook_server_config_unsafe_acknowledged"),
    ({"notebook_server_config": {"ServerApp": "base_url=/x/"}}, "notebook_server_config"),
    ({"notebook_port": 443}, "notebook_allow_privileged_port"),
    ({"notebook_pip_index_url": "http://mirror.example.org/simple"}, "notebook_pip_index_url"),
    ({"notebook_pip_extra_args": "--extra-index-url https://user:tok@mirror.example.org/simple"}, "notebook_pip_extra_args"),
    ({"notebook_service_name": "jupyter@x"}, "notebook_service_name"),
    # Wheels are installed only with the sha256 a lock lists: a wheelhouse alone is refused.
    ({"notebook_wheelhouse": "/tmp"}, "notebook_wheelhouse needs notebook_lock_dir"),
    # Accounts and directories of somebody else (made by the test first).
    ({"notebook_user": "alice"}, "notebook_user"),
    ({"notebook_group": "users"}, "notebook_group"),
    ({"notebook_home": "/srv/alice-data"}, "notebook_home"),
    # ACME: refused on the controller, or by the host reader before anything changes.
    ({"notebook_tls_mode": "acme"}, "notebook_acme_terms_agreed"),
    ({**_ACME, "notebook_acme_directory": "http://acme.example.org/directory"}, "notebook_acme_directory"),
    ({**_ACME, "notebook_acme_directory": "https://127.0.0.1:9/directory"}, "notebook_acme_directory"),
    ({**_ACME, "notebook_acme_eab_kid": "kid-1"}, "notebook_acme_eab_hmac_key"),
    ({**_ACME, "notebook_acme_eab_kid": "kid-1", "notebook_acme_eab_hmac_key": "not a key!"}, "notebook_acme_eab_hmac_key"),
    ({**_ACME, "notebook_tls_extra_names": ["localhost"]}, "notebook_tls_extra_names"),
    ({**_ACME, "notebook_tls_extra_names": ["nb.does-not-resolve.invalid"]}, "notebook_tls_extra_names"),
    ({**_ACME, "notebook_acme_http_port": 0}, "notebook_acme_http_port"),
    ({**_ACME, "notebook_acme_http_port": 8080}, "notebook_acme_http_port"),
    ({**_ACME, "notebook_port": 443, "notebook_allow_privileged_port": True}, "notebook_allow_privileged_port"),
    ({"notebook_instance": "Lab_1"}, "notebook_instance"),
    ({"notebook_tls_client_auth": "on", "notebook_tls_mode": "none", "notebook_tls_none_acknowledged": True}, "notebook_tls_client"),
    # Client certificates.
    ({"notebook_tls_clients": [{"name": "../laptop"}], "notebook_tls_client_p12_password": "device-Pa55"}, "notebook_tls_clients"),
    ({"notebook_tls_clients": [{"name": "laptop-ada"}]}, "notebook_tls_client_p12_password"),
    ({"notebook_tls_client_ca": "/nonexistent/clients-ca.pem"}, "notebook_tls_client_ca"),
    # Front end, extra kernels, several instances in one call.
    ({"notebook_frontend": "lab", "notebook_version": "6.5.7"}, "notebook_frontend"),
    ({"notebook_kernels": [{"name": "python3"}]}, "notebook_kernels"),
    ({"notebook_kernels": [{"name": "../escape"}]}, "notebook_kernels"),
    ({"notebook_kernels": [{"name": "k"}, {"name": "k"}]}, "notebook_kernels"),
    ({"notebook_kernels": [{"name": "ir", "debian_package": "r-cran-irkernel", "packages": ["numpy"]}]}, "notebook_kernels"),
    ({"notebook_kernels": [{"name": "k", "packages": ["git+https://example.org/x/y.git"]}]}, "notebook_kernels"),
    ({"notebook_kernels": [{"name": "ir", "debian_package": "R Kernel"}]}, "notebook_kernels"),
    ({"notebook_kernels": [{"display_name": "no name"}]}, "notebook_kernels"),
    ({"notebook_instances": [{"notebook_port": 9990}]}, "notebook_instance"),
    ({"notebook_instances": [{"notebook_instance": "a", "notebook_port": 9990}, {"notebook_instance": "b", "notebook_port": 9990}]},
     "notebook_port"),
    ({"notebook_instances": [{"notebook_instance": "a", "notebook_colour": "blue"}]}, "notebook_instances"),
    # The second entry's bad port is refused before the first entry deploys anything.
    ({"notebook_instances": [{"notebook_instance": "a", "notebook_port": 9990}, {"notebook_instance": "b", "notebook_port": "x"}]},
     "notebook_port"),
]
# Checked across the hosts of a batch: one converge each, not aliases of one host in one run.
_BATCH_WIDE = ("notebook_tls_client", "notebook_tls_ca")


def _provided_pairs(tmp_path) -> list:
    """Provided certificates that must be refused on the controller, before anything is copied."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    base = ["req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-subj", "/CN=localhost"]
    san = ["-addext", "subjectAltName=DNS:localhost"]
    openssl(*base, *san, "-days", "30", "-keyout", str(tmp_path / "a.key"), "-out", str(tmp_path / "a.pem"))
    openssl(*base, *san, "-days", "30", "-keyout", str(tmp_path / "b.key"), "-out", str(tmp_path / "b.pem"))
    openssl(*base, "-days", "30", "-keyout", str(tmp_path / "nosan.key"), "-out", str(tmp_path / "nosan.pem"))
    openssl("pkey", "-in", str(tmp_path / "a.key"), "-out", str(tmp_path / "locked.key"), "-aes256", "-passout", "pass:secret")
    _expired(tmp_path / "a.key", tmp_path / "old.pem")
    return [
        ({"notebook_tls_mode": "provided", "notebook_tls_cert": str(tmp_path / "a.pem"), "notebook_tls_key": str(tmp_path / "b.key")},
         "notebook_tls_key"),
        ({"notebook_tls_mode": "provided", "notebook_tls_cert": str(tmp_path / "a.pem"), "notebook_tls_key": str(tmp_path / "locked.key")},
         "notebook_tls_key"),
        ({"notebook_tls_mode": "provided", "notebook_tls_cert": str(tmp_path / "nosan.pem"), "notebook_tls_key": str(tmp_path / "nosan.key")},
         "notebook_tls_cert"),
        ({"notebook_tls_mode": "provided", "notebook_tls_cert": str(tmp_path / "old.pem"), "notebook_tls_key": str(tmp_path / "a.key")},
         "notebook_tls_cert"),
    ]


def _private_ca_cases(tmp_path) -> list:
    """Private CA input that must be refused on the controller; a CA to be made from bad input is not made."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ca = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "30",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]
    for name in ("nokey", "locked", "constrained"):
        (tmp_path / name).mkdir(mode=0o700)
    openssl(*ca, "-nodes", "-subj", "/CN=ca without key", "-keyout", str(tmp_path / "nokey" / "gone.key"),
            "-out", str(tmp_path / "nokey" / "ca.pem"))
    openssl(*ca, "-passout", "pass:right", "-subj", "/CN=locked ca", "-keyout", str(tmp_path / "locked" / "ca.key"),
            "-out", str(tmp_path / "locked" / "ca.pem"))
    openssl(*ca, "-nodes", "-subj", "/CN=constrained ca", "-addext", "nameConstraints=critical,permitted;DNS:example.org",
            "-keyout", str(tmp_path / "constrained" / "ca.key"), "-out", str(tmp_path / "constrained" / "ca.pem"))
    for key in ("locked/ca.key", "constrained/ca.key"):
        os.chmod(tmp_path / key, 0o600)
    private_ca = {"notebook_tls_mode": "private_ca"}
    return [
        ({**private_ca, "notebook_tls_ca_cert": str(tmp_path / "nokey" / "ca.pem")}, "notebook_tls_ca_key"),
        ({**private_ca, "notebook_tls_ca_cert": str(tmp_path / "locked" / "ca.pem"), "notebook_tls_ca_key_passphrase": "wrong"},
         "notebook_tls_ca_key_passphrase"),
        ({**private_ca, "notebook_tls_ca_cert": str(tmp_path / "a.pem"), "notebook_tls_ca_key": str(tmp_path / "a.key")},
         "notebook_tls_ca_cert"),
        ({**private_ca, "notebook_tls_ca_cert": str(tmp_path / "constrained" / "ca.pem"),
          "notebook_tls_extra_names": ["nb.example.net"]}, "notebook_tls_extra_names"),
        ({**private_ca, "notebook_tls_ca_cert": str(tmp_path / "unmade" / "ca.pem"),
          "notebook_tls_ca_name_constraints": ["URI:https://example.org"]}, "notebook_tls_ca_name_constraints"),
        ({**private_ca, "notebook_tls_ca_cert": str(tmp_path / "unmade" / "ca.pem"), "notebook_tls_ca_key_type": "rsa",
          "notebook_tls_ca_rsa_bits": 2048}, "notebook_tls_ca_rsa_bits"),
    ]


def _expired(key_file, out):
    """A certificate for the key that expired in 2020 (openssl 3.0 can't back-date one)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
            .not_valid_after(datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.mark.one_platform(0)
def test_bad_input_fails_before_any_change(host, paths, tmp_path):
    # Refused in preflight (on the controller) and by the host reader, the same on every platform.
    sh(host, "id alice >/dev/null 2>&1 || useradd --create-home --uid 1500 --groups users --shell /bin/bash alice; "
             "mkdir -p /srv/alice-data && chown alice: /srv/alice-data")
    watched = f"{paths['config']} /etc/systemd/system/{paths['service']}.service /srv /var/lib/jupyter-notebook /opt"
    snapshot = f"find {watched} -xdev -printf '%p %U:%G %m %s %T@\\n' 2>/dev/null | sort; ls /pwned 2>&1; true"
    before = sh(host, snapshot)
    cases = BAD_INPUTS + _provided_pairs(tmp_path) + _private_ca_cases(tmp_path)
    apart = [case for case in cases if any(key.startswith(_BATCH_WIDE) for key in case[0])]
    together = [case for case in cases if case not in apart]
    try:
        # Each must stop in preflight or the host checks. Most run as aliases of the host in one
        # ansible-playbook; those checked across a batch run as converges of their own, four at a time.
        with ThreadPoolExecutor(4) as pool:
            separate = pool.map(lambda case: converge(host, case[0], timeout=300), apart)
            runs = converge_each(host, [case[0] for case in together], timeout=900)
            runs += list(separate)
        cases = together + apart
        for (extra, variable), run in zip(cases, runs):
            assert run.rc != 0, f"{extra} was accepted"
            assert run.changed == 0, f"{extra} changed something before failing:\n{run.output[-2000:]}"
            assert variable in _failure(run.output), f"{extra}: the error does not name {variable}:\n{run.output[-2000:]}"
        assert sh(host, snapshot) == before, "a refused input changed files on the host"
        assert not (tmp_path / "unmade").exists(), "a CA was made from refused input"
    finally:
        sh(host, "userdel --remove alice 2>/dev/null; rm -rf /srv/alice-data; true")
    print(f"\n[figure] {host}: {len(cases)} bad inputs refused before any change, each naming its variable")


def _failure(output: str) -> str:
    """The failed task's message: a variable named elsewhere in the output (a task name) doesn't count."""
    return "\n".join(line for line in output.splitlines() if "fatal:" in line or "msg" in line or "ERROR" in line or "failed" in line.lower())


@pytest.mark.one_platform(1)
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
