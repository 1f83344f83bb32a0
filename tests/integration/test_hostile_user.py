# SPDX-License-Identifier: GPL-3.0-or-later
"""What the service account (whose kernels run anybody's code) and other local users can do to
steer root's next converge, and what runs that overlap, fail half-way or carry secrets leave.

Disruptive (re-converges, kills): runs only in the resilience scenario (NB_RESILIENCE=1).
Every test leaves the host converged and serving."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time

import pytest
from converge import PLAYBOOK, command, converge
from hostcheck import sh
from nbclient import NotebookClient

pytestmark = pytest.mark.skipif(os.environ.get("NB_RESILIENCE") != "1", reason="resilience scenario only")

HOME = "/var/lib/jupyter-notebook"
USER = "jupyter"


def as_account(host: str, script: str) -> str:
    """Run a shell script as the service account, as code in one of its kernels would."""
    return sh(host, f"runuser -u {USER} -- /bin/sh -c {script!r}")


def _assert_converged(host):
    again = converge(host)
    assert again.rc == 0 and again.changed == 0, again.output[-3000:]


def _serves(server, password) -> int:
    client = NotebookClient(server["url"], server["ca"])
    client.wait_until_up()
    return client.login(password).status_code


# The account's own directories and the ones Jupyter keeps in its home: the role makes (or puts
# right) the first two; each is a place a kernel can replace with a link before the next converge.
PLANTED = {
    "root dir": f"{HOME}/notebooks",
    "data dir": f"{HOME}/data",
    "settings dir": f"{HOME}/lab/user-settings",
    "workspaces dir": f"{HOME}/lab/workspaces",
}


def test_links_the_account_plants_never_steer_root(server, host):
    victims = {name: f"/opt/victim-{index}" for index, name in enumerate(PLANTED)}
    sh(host, " && ".join(f"mkdir -p {v} && chmod 0755 {v} && touch {v}/root-file" for v in victims.values()))
    listing = "stat -c '%U:%G %a %n' " + " ".join(f"{v} {v}/root-file" for v in victims.values())
    before = sh(host, listing)
    # The account also opens its home to everybody: the role must close it again through the
    # directory itself, not a path the account could swap.
    as_account(host, f"chmod 0777 {HOME} && mkdir -p {HOME}/lab && " + " && ".join(
        f"rm -rf {path} && ln -s {victims[name]} {path}" for name, path in PLANTED.items()))
    try:
        run = converge(host)
        assert run.rc == 0, run.output[-3000:]
        assert sh(host, listing) == before, "root changed a file or directory a planted link pointed at"
        assert "was a symbolic link to /opt/victim-0" in run.output, run.output[-3000:]
        assert sh(host, f"stat -c '%F %U %a' {HOME}/notebooks {HOME}").splitlines() == [
            f"directory {USER} 750", f"directory {USER} 750"]
        assert _serves(server, server["password"]) == 302
        _assert_converged(host)
        print(f"\n[figure] {host}: {len(PLANTED)} planted links, 0 targets changed")
    finally:
        sh(host, f"rm -rf {' '.join(victims.values())} " + " ".join(PLANTED[n] for n in PLANTED if n != "root dir"))


@pytest.mark.one_platform(1)
def test_restart_lost_with_a_killed_run_is_made_by_the_next(server, host, paths):
    """The controller dies after the new config is written and before its handler: the next
    converge finds the server older than its config and restarts it."""
    new_password = server["password"] + "-lost"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"notebook_password": new_password}, fh)
    proc = subprocess.Popen(command(PLAYBOOK, {"notebook_password": new_password}, fh.name, limit=host),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        for line in proc.stdout:
            # The task after the config write: the new hash is on disk, the restart not yet made.
            if "Remove config the installed version would misread" in line:
                break
        else:
            pytest.fail("the converge ended before writing the config")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.unlink(fh.name)
    try:
        assert _serves(server, server["password"]) == 302, "the killed run restarted the server after all"
        run = converge(host, {"notebook_password": new_password})
        assert run.rc == 0 and "changed after the server started" in run.output, run.output[-3000:]
        assert _serves(server, new_password) == 302
        assert _serves(server, server["password"]) == 401
    finally:
        assert converge(host).rc == 0
    assert _serves(server, server["password"]) == 302


@pytest.mark.one_platform(0)
def test_a_lock_another_user_holds_does_not_stop_the_converge(server, host):
    """The old lock lived in the world-writable /run/lock: any user could take it first."""
    sh(host, "runuser -u nobody -- sh -c 'umask 0; for f in /run/lock/jupyter-notebook-install.lock /run/lock/jupyter-notebook.lock; "
             "do : > $f; done' && systemd-run --unit nbops-lock-squatter --uid nobody "
             "flock /run/lock/jupyter-notebook-install.lock sleep 900 && sleep 0.5")
    try:
        # Something to install, so the install (and its lock) runs.
        run = converge(host, {"notebook_extra_packages": ["toolz"]}, timeout=600)
        assert run.rc == 0, run.output[-3000:]
        assert sh(host, "stat -c '%U %a' /run/nbops-jupyter").split() == ["root", "700"]
        assert _serves(server, server["password"]) == 302
    finally:
        sh(host, "systemctl stop nbops-lock-squatter; rm -f /run/lock/jupyter-notebook*.lock; true")
    _assert_converged(host)


@pytest.mark.one_platform(1)
def test_two_converges_at_once_leave_one_consistent_server(server, host, paths):
    """Both install (a package the venv lacks) and both make the certificate (it is gone): they
    take turns on root's locks, and what is left serves, is whole, and converges with changed=0."""
    sh(host, f"rm -rf {paths['config']}/tls/live {paths['config']}/tls/gen-*")
    results = {}

    def run(name):
        results[name] = converge(host, {"notebook_extra_packages": ["sortedcontainers"]}, timeout=900)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, result in results.items():
        assert result.rc == 0, f"{name}: {result.output[-3000:]}"
    generations = sh(host, f"ls -d {paths['config']}/tls/gen-*").split()
    assert len(generations) == 1, generations
    assert sh(host, f"readlink -f {paths['config']}/tls/live").strip() == generations[0]
    pair = sh(host, f"openssl x509 -in {paths['cert']} -noout -pubkey; openssl pkey -in {paths['key']} -pubout")
    first_key, second_key = pair.split("-----END PUBLIC KEY-----")[:2]
    assert first_key.strip() == second_key.strip(), "key and certificate of different runs"
    if server["ca"]:
        with open(server["ca"], "w", encoding="ascii") as fh:
            fh.write(sh(host, f"cat {paths['cert']}"))
    assert _serves(server, server["password"]) == 302
    _assert_converged(host)


@pytest.mark.one_platform(0)
def test_index_credentials_never_show(server, host):
    """A token in notebook_pip_index_url: not in any process's argv (world-readable /proc), not in
    the background job's result file, not in -vvv output, not in the journal or files on the host."""
    secret = "nbopsTok3n" + str(os.getpid())
    index = f"https://nbops-test:{secret}@pypi.org/simple"
    stop = threading.Event()
    seen = []

    # The watcher's own argv must not hold the token, or it would find itself: it reads it from a file.
    sh(host, "cat > /run/nbops-pattern && chmod 0644 /run/nbops-pattern", stdin=secret)

    def watch():
        # What any local user can read, as fast as a loop in the container can read it.
        script = ("end=$((SECONDS+900)); while [ $SECONDS -lt $end ]; do "
                  "grep -lF -f /run/nbops-pattern /proc/[0-9]*/cmdline 2>/dev/null && break; done; true")
        watcher = subprocess.Popen(["docker", "exec", host, "runuser", "-u", "nobody", "--", "bash", "-c", script],
                                   stdout=subprocess.PIPE, text=True)
        while watcher.poll() is None and not stop.is_set():
            time.sleep(0.2)
        if watcher.poll() is None:
            watcher.kill()
        seen.append(watcher.communicate()[0])

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        # uv and latest: the uv wheel is fetched with the credentials and uv resolves against the index.
        run = converge(host, {"notebook_pip_index_url": index, "notebook_installer": "uv", "notebook_state": "latest"},
                       args=("-vvv",), timeout=900)
    finally:
        stop.set()
        thread.join()
        sh(host, "rm -f /run/nbops-pattern")
    assert run.rc == 0, run.output[-3000:]
    assert secret not in run.output, "the token is in the -vvv output"
    assert seen == [""], f"the token was in a process's argv: {seen}"
    leaked = sh(host, f"grep -rl {secret} /root/.ansible_async /root/.ansible /tmp /etc /opt /var/lib /var/log /run 2>/dev/null; "
                      f"journalctl --no-pager -o cat | grep -c {secret}; true").split()
    assert leaked == ["0"], leaked
    _assert_converged(host)
