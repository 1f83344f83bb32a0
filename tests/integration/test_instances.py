# SPDX-License-Identifier: GPL-3.0-or-later
"""Several servers on one host (the default scenario): a second instance beside the first, each
logging in only with its own password and coming back from restarts; settings that would make
them share a port or a config refused before any change; the second removed with state absent,
the first untouched; and both listening on IPv4 and IPv6."""

from __future__ import annotations

import os
import subprocess

import pytest
from converge import converge
from hostcheck import sh
from nbclient import NotebookClient

pytestmark = pytest.mark.skipif(os.environ.get("NB_INSTANCES") != "1", reason="the default scenario runs the instances tests")
LAB = {"notebook_instance": "lab", "notebook_port": 9999, "notebook_password": "molecule-lab-Pa55"}


def _published(host: str, port: int) -> str:
    return subprocess.run(["docker", "port", host, f"{port}/tcp"], capture_output=True, text=True, check=True).stdout.split()[0]


def _client(host: str, port: int, ca: str) -> NotebookClient:
    return NotebookClient(f"https://{_published(host, port)}/", ca)


def _logs_in(host: str, port: int, ca: str, password: str) -> bool:
    return _client(host, port, ca).login(password).status_code == 302


def _runs_code(host: str, port: int, ca: str, password: str) -> bool:
    client = _client(host, port, ca)
    assert client.login(password).status_code == 302
    kernel = client.start_kernel()
    try:
        return client.execute(kernel, "print(6 * 7)").stdout.strip() == "42"
    finally:
        client.delete_kernel(kernel)


def test_two_instances_then_one(server, host, tmp_path):
    first = converge(host, LAB, timeout=900)
    assert first.rc == 0, first.output[-3000:]
    lab_ca = tmp_path / "lab.pem"
    lab_ca.write_text(sh(host, "cat /etc/jupyter-lab/tls/live/cert.pem"))
    main_password = server["password"]
    try:
        # Each logs in only with its own password; nothing of one is in the other's files.
        assert _logs_in(host, 9999, str(lab_ca), LAB["notebook_password"])
        assert not _logs_in(host, 9999, str(lab_ca), main_password)
        assert _logs_in(host, 8888, server["ca"], main_password)
        assert not _logs_in(host, 8888, server["ca"], LAB["notebook_password"])
        assert sh(host, "stat -c %U /var/lib/jupyter-lab /opt/jupyter-lab/venv /etc/jupyter-lab").split() == \
            ["jupyter-lab", "root", "root"]
        assert "9999" not in sh(host, "cat /etc/jupyter-notebook/jupyter_server_config.json")
        for unit, port, ca in (("jupyter-lab", 9999, str(lab_ca)), ("jupyter-notebook", 8888, server["ca"])):
            for _restart in range(2):
                sh(host, f"systemctl restart {unit}")
                _client(host, port, ca).wait_until_up(timeout=60)
        assert _runs_code(host, 9999, str(lab_ca), LAB["notebook_password"])
        # What would make two servers share something is refused, naming the other, before any change.
        for extra, words in (({**LAB, "notebook_instance": "lab2", "notebook_port": 8888}, ["notebook_port 8888", "jupyter-notebook"]),
                             ({"notebook_service_name": "nb2", "notebook_port": 9998},
                              ["notebook_config_dir /etc/jupyter-notebook", "jupyter-notebook"])):
            refused = converge(host, extra, timeout=600)
            assert refused.rc != 0 and refused.changed == 0, refused.output[-3000:]
            assert all(word in refused.output for word in words), refused.output[-3000:]
        # The second instance removed: its port closed, its files gone, the account too; the notebooks kept.
        gone = converge(host, {**LAB, "notebook_state": "absent"}, timeout=600)
        assert gone.rc == 0 and gone.changed > 0, gone.output[-3000:]
        assert sh(host, "ls -d /etc/jupyter-lab /opt/jupyter-lab /etc/systemd/system/jupyter-lab.service /run/jupyter-lab "
                        "2>/dev/null; id jupyter-lab 2>/dev/null; true").strip() == ""
        assert sh(host, "test -d /var/lib/jupyter-lab/notebooks && echo kept").strip() == "kept"
        probe = "import socket; s = socket.socket(); print(s.connect_ex(('127.0.0.1', 9999)))"
        assert sh(host, f"python3 -c \"{probe}\"").strip() != "0", "port 9999 still answers"
        assert _runs_code(host, 8888, server["ca"], main_password)
        again = converge(host, {**LAB, "notebook_state": "absent"}, timeout=600)
        assert again.rc == 0 and again.changed == 0, again.output[-3000:]
        purged = converge(host, {**LAB, "notebook_state": "absent", "notebook_purge": True}, timeout=600)
        assert purged.rc == 0 and sh(host, "ls -d /var/lib/jupyter-lab 2>/dev/null; true").strip() == ""
    finally:
        converge(host, {**LAB, "notebook_state": "absent", "notebook_purge": True}, timeout=600)
    assert converge(host).changed == 0, "the first instance changed after the second came and went"
    print(f"\n[figure] {host}: a second instance served, restarted and removed; the first untouched (changed=0)")


def test_listening_on_ipv4_and_ipv6(host):
    probe = ("import ssl, urllib.request as u; c = ssl._create_unverified_context(); "
             "print(u.urlopen('https://{}:8888/api', context=c, timeout=10).status)")
    for address in ("127.0.0.1", "[::1]"):
        assert sh(host, f"python3 -c \"{probe.format(address)}\"").strip() == "200", address
