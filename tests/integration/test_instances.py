# SPDX-License-Identifier: GPL-3.0-or-later
"""Several servers on one host (the default scenario), the older recipe's layout: instance
`notebook` on 8888 and instance `lab` (JupyterLab as the landing page, an extra Python kernel in a
venv of its own, Debian's R kernel, idle kernels culled) on 9999. Each logs in only with its own
password and comes back from restarts; both kernels run code; then `lab` removed with state
absent, the first untouched. On the other host: `lab` as the previous release deployed it, then
this one (changed=0), one role call with notebook_instances for both (changed=0), and settings
that would make two servers share a port or a config refused before any change. And the server
listening on IPv4 and IPv6."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from converge import REPO, converge, parse, run_playbook
from hostcheck import sh
from nbclient import NotebookClient

pytestmark = pytest.mark.skipif(os.environ.get("NB_INSTANCES") != "1", reason="the default scenario runs the instances tests")
LAB = {"notebook_instance": "lab", "notebook_port": 9999, "notebook_password": "molecule-lab-Pa55",
       "notebook_frontend": "lab", "notebook_cull_idle_timeout": 20, "notebook_cull_interval": 5,
       "notebook_kernels": [{"name": "py-extra", "display_name": "Python (extra)", "packages": ["tabulate"]},
                            {"name": "ir", "debian_package": "r-cran-irkernel"}]}


def _published(host: str, port: int) -> str:
    return subprocess.run(["docker", "port", host, f"{port}/tcp"], capture_output=True, text=True, check=True).stdout.split()[0]


def _client(host: str, port: int, ca: str) -> NotebookClient:
    return NotebookClient(f"https://{_published(host, port)}/", ca)


def _logs_in(host: str, port: int, ca: str, password: str) -> bool:
    return _client(host, port, ca).login(password).status_code == 302


def _runs_code(host: str, port: int, ca: str, password: str, kernel_name: str = "python3",
               code: str = "print(6 * 7)") -> str:
    client = _client(host, port, ca)
    assert client.login(password).status_code == 302
    kernel = client.start_kernel(kernel_name)
    try:
        return client.execute(kernel, code).stdout.strip()
    finally:
        client.delete_kernel(kernel)


def _lab_checks(host: str, ca: str):
    """JupyterLab as the landing page, the extra kernels offered (and nothing else), each running
    code, and an idle kernel culled."""
    client = _client(host, 9999, ca)
    assert client.login(LAB["notebook_password"]).status_code == 302
    landing = client.get("")
    assert landing.status_code in (301, 302) and landing.headers["Location"].split("?")[0].rstrip("/").endswith("/lab"), \
        (landing.status_code, landing.headers.get("Location"))
    assert client.get("lab").status_code == 200
    assert client.get("tree").status_code == 200, "Notebook's own UI is no longer reachable beside Lab"
    idle = client.start_kernel()
    started = time.monotonic()
    specs = client.api("GET", "api/kernelspecs").json()["kernelspecs"]
    assert sorted(specs) == ["ir", "py-extra", "python3"], sorted(specs)
    assert specs["py-extra"]["spec"]["display_name"] == "Python (extra)"
    code = "import sys, tabulate; print(sys.prefix, tabulate.__name__)"
    assert _runs_code(host, 9999, ca, LAB["notebook_password"], "py-extra", code) == "/opt/jupyter-lab/kernels/py-extra tabulate"
    isolated = "try:\n    import tabulate\n    print('leaked')\nexcept ImportError:\n    print('isolated')"
    assert _runs_code(host, 9999, ca, LAB["notebook_password"], "python3", isolated) == "isolated", \
        "the server's own kernel sees the extra kernel's packages"
    assert _runs_code(host, 9999, ca, LAB["notebook_password"], "ir", "cat(6*7)") == "42"
    while time.monotonic() - started < 90 and idle in [k["id"] for k in client.api("GET", "api/kernels").json()]:
        time.sleep(2)
    waited = time.monotonic() - started
    assert idle not in [k["id"] for k in client.api("GET", "api/kernels").json()], "an idle kernel was not culled in 90 s"
    return waited


def _previous_release(tmp_path: Path) -> Path:
    """The collection as the last submission that landed had it (tests/previous-release), laid out
    as a collections path."""
    commit = (REPO / "tests" / "previous-release").read_text().split()[0]
    known = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"], check=False).returncode == 0
    if not known:
        shallow = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--is-shallow-repository"],
                                 capture_output=True, text=True, check=False).stdout.strip()
        if shallow == "true":
            pytest.skip(f"a shallow clone has no commit {commit} to upgrade from")
        raise AssertionError(f"tests/previous-release names {commit}, which this repository doesn't have")
    dest = tmp_path / "previous" / "ansible_collections" / "nbops" / "jupyter"
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return tmp_path / "previous"


def _no_lab_left(host: str):
    assert sh(host, "ls -d /etc/jupyter-lab 2>/dev/null; true").strip() == "", "an instance lab is left from an earlier run"


@pytest.mark.one_platform(1)
def test_the_previous_release_s_second_server_is_left_alone_by_this_one(server, host, tmp_path):
    """Upgrading the collection: instance `lab` as the previous release deployed it converges with
    changed=0, and so does one role call with notebook_instances for both servers; settings that
    would make two servers share a port or a config are refused, naming the other, before any
    change."""
    _no_lab_left(host)
    try:
        previous = converge(host, LAB, timeout=900, env={"ANSIBLE_COLLECTIONS_PATH": str(_previous_release(tmp_path))})
        assert previous.rc == 0, previous.output[-3000:]
        upgraded = converge(host, LAB, timeout=600)
        assert upgraded.rc == 0 and upgraded.changed == 0, \
            f"a host converged by the previous release changed after the upgrade:\n{upgraded.output[-3000:]}"
        # One role call with notebook_instances deploys the same two servers: nothing to change.
        both = run_playbook(_instances_playbook(tmp_path, [{"notebook_instance": "notebook"}, LAB]), limit=host)
        assert both[0] == 0 and parse(*both, host).changed == 0, both[1][-3000:]
        # A fresh server first in the list, then one whose password changed: each server gets a hash of its own
        # password (a hash made for the fresh one once stayed a fact of the host, and the next server took it).
        fresh = {"notebook_instance": "fresh", "notebook_port": 9997, "notebook_password": "molecule-fresh-Pa55"}
        rotated = {**LAB, "notebook_password": "molecule-lab-rotated-Pa55"}
        lab_ca = tmp_path / "lab.pem"
        lab_ca.write_text(sh(host, "cat /etc/jupyter-lab/tls/live/cert.pem"))
        three = run_playbook(_instances_playbook(tmp_path, [fresh, {"notebook_instance": "notebook"}, rotated]), limit=host)
        assert three[0] == 0, three[1][-3000:]
        assert _logs_in(host, 9999, str(lab_ca), rotated["notebook_password"])
        assert not _logs_in(host, 9999, str(lab_ca), fresh["notebook_password"])
        gone = converge(host, {**fresh, "notebook_state": "absent", "notebook_purge": True}, timeout=600)
        assert gone.rc == 0, gone.output[-3000:]
        clashing = [{"notebook_instance": "notebook"}, {**LAB, "notebook_port": 8888}]
        clash = run_playbook(_instances_playbook(tmp_path, clashing), limit=host)
        assert clash[0] != 0 and parse(*clash, host).changed == 0 and "notebook_port" in clash[1], clash[1][-3000:]
        for extra, words in (({**LAB, "notebook_instance": "lab2", "notebook_port": 8888}, ["notebook_port 8888", "jupyter-notebook"]),
                             ({"notebook_service_name": "nb2", "notebook_port": 9998},
                              ["notebook_config_dir /etc/jupyter-notebook", "jupyter-notebook"])):
            refused = converge(host, extra, timeout=600)
            assert refused.rc != 0 and refused.changed == 0, refused.output[-3000:]
            assert all(word in refused.output for word in words), refused.output[-3000:]
    finally:
        converge(host, {"notebook_instance": "fresh", "notebook_state": "absent", "notebook_purge": True}, timeout=600)
        converge(host, {**LAB, "notebook_state": "absent", "notebook_purge": True}, timeout=600)
    assert converge(host).changed == 0, "the first instance changed after the second came and went"


@pytest.mark.one_platform(0)
def test_two_instances_then_one(server, host, tmp_path):
    _no_lab_left(host)
    # Lab, the kernels and culling on a host with one server: check mode shows it and changes nothing.
    preview = converge(host, LAB, timeout=600, args=("--check", "--diff"))
    assert preview.rc == 0 and preview.changed > 0, preview.output[-3000:]
    assert sh(host, "ls -d /opt/jupyter-lab /etc/jupyter-lab 2>/dev/null; true").strip() == ""
    first = converge(host, LAB, timeout=900)
    assert first.rc == 0 and first.changed > 0, first.output[-3000:]
    checked = converge(host, LAB, timeout=600, args=("--check", "--diff"))
    assert checked.rc == 0 and checked.changed == 0, checked.output[-3000:]
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
                _client(host, port, ca).wait_until_up()
        assert _runs_code(host, 9999, str(lab_ca), LAB["notebook_password"]) == "42"
        culled_after = _lab_checks(host, str(lab_ca))
        # The second instance removed: its port closed, its files gone, the account too; the notebooks kept.
        gone = converge(host, {**LAB, "notebook_state": "absent"}, timeout=600)
        assert gone.rc == 0 and gone.changed > 0, gone.output[-3000:]
        assert sh(host, "ls -d /etc/jupyter-lab /opt/jupyter-lab /etc/systemd/system/jupyter-lab.service /run/jupyter-lab "
                        "2>/dev/null; id jupyter-lab 2>/dev/null; true").strip() == ""
        assert sh(host, "test -d /var/lib/jupyter-lab/notebooks && echo kept").strip() == "kept"
        probe = "import socket; s = socket.socket(); print(s.connect_ex(('127.0.0.1', 9999)))"
        assert sh(host, f"python3 -c \"{probe}\"").strip() != "0", "port 9999 still answers"
        assert _runs_code(host, 8888, server["ca"], main_password) == "42"
        assert sh(host, "ls -d /opt/jupyter-lab/kernels /etc/jupyter-lab/kernels 2>/dev/null; true").strip() == ""
        again = converge(host, {**LAB, "notebook_state": "absent"}, timeout=600)
        assert again.rc == 0 and again.changed == 0, again.output[-3000:]
        purged = converge(host, {**LAB, "notebook_state": "absent", "notebook_purge": True}, timeout=600)
        assert purged.rc == 0 and sh(host, "ls -d /var/lib/jupyter-lab 2>/dev/null; true").strip() == ""
    finally:
        if sh(host, "ls -d /etc/jupyter-lab /var/lib/jupyter-lab 2>/dev/null; true").strip():
            converge(host, {**LAB, "notebook_state": "absent", "notebook_purge": True}, timeout=600)
    assert converge(host).changed == 0, "the first instance changed after the second came and went"
    print(f"\n[figure] {host}: a second instance (Lab, Python and R kernels) served, restarted and removed; "
          f"the first untouched (changed=0); an idle kernel culled {culled_after:.0f} s after it started "
          f"(notebook_cull_idle_timeout {LAB['notebook_cull_idle_timeout']} s)")


def _instances_playbook(tmp_path: Path, entries: list) -> Path:
    """The role called once with notebook_instances (role vars: extra vars would outrank the entries)."""
    playbook = tmp_path / "instances.yml"
    playbook.write_text(json.dumps([{"name": "Converge", "hosts": "notebooks", "gather_facts": False,
                                     "roles": [{"role": "nbops.jupyter.notebook", "vars": {"notebook_instances": entries}}]}]))
    return playbook


def test_listening_on_ipv4_and_ipv6(host):
    probe = ("import ssl, urllib.request as u; c = ssl._create_unverified_context(); "
             "print(u.urlopen('https://{}:8888/api', context=c, timeout=10).status)")
    for address in ("127.0.0.1", "[::1]"):
        assert sh(host, f"python3 -c \"{probe.format(address)}\"").strip() == "200", address
