# SPDX-License-Identifier: GPL-3.0-or-later
"""The bench's hosts: fresh containers of the test image, reached like real ones.

Over SSH each host runs the image's sshd and is reached as `bench`, an unprivileged account with
a key and a sudo password, as a new user's inventory would have it; the docker connection stays
for comparison with earlier figures. Setting a host up (boot, account, key, the molecule prepare
that gives it the controller's CA bundle) is never timed."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("BENCH_IMAGE", "nbops-testbed:debian12")
RUN_CONTAINER = REPO / "tests" / "testbed" / "run-container.sh"
OUT = REPO / ".build" / "bench"
SSH_USER = "bench"
# A throwaway test account's sudo password on a throwaway container.
SUDO_PASSWORD = "bench-sudo-Pa55"
PASSWORD = "bench-password"

_ACCOUNT = f"""set -e
id {SSH_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo {SSH_USER}
echo '{SSH_USER}:{SUDO_PASSWORD}' | chpasswd
install -d -m 0700 -o {SSH_USER} -g {SSH_USER} /home/{SSH_USER}/.ssh
cat > /home/{SSH_USER}/.ssh/authorized_keys
chown {SSH_USER}: /home/{SSH_USER}/.ssh/authorized_keys
systemctl enable --now ssh >/dev/null 2>&1
"""


def sh(*argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def key() -> Path:
    path = OUT / "ssh" / "id_ed25519"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nbops-bench", "-f", str(path))
    return path


def _start_one(name: str, ssh: bool) -> str:
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    sh(str(RUN_CONTAINER), name, IMAGE)
    if ssh:
        sh("docker", "exec", "-i", name, "bash", "-c", _ACCOUNT, input=key().with_suffix(".pub").read_text())
    return name


def _inotify_room(count: int) -> None:
    """Each container's systemd takes several inotify instances of the machine's (the kernel's
    default limit is 128): past about 30 containers the next ones hang in boot. Raise the limit
    for the bench, or say what to do."""
    path = Path("/proc/sys/fs/inotify/max_user_instances")
    need = 16 * count + 128
    if count > 8 and int(path.read_text()) < need:
        try:
            path.write_text(str(need))
        except OSError as exc:
            raise SystemExit(f"{count} containers need fs.inotify.max_user_instances >= {need}: "
                             f"sysctl -w fs.inotify.max_user_instances={need}") from exc


def start(names: list[str], ssh: bool = True) -> None:
    _inotify_room(len(names))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: _start_one(n, ssh), names))


def destroy(names: list[str]) -> None:
    if names:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)


def address(name: str) -> str:
    return sh("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).stdout.strip()


def cgroup(name: str) -> str:
    cid = sh("docker", "inspect", "-f", "{{.Id}}", name).stdout.strip()
    for path in (f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat", f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage"):
        if Path(path).exists():
            return path
    raise SystemExit(f"no cgroup CPU file for container {name}")


def inventory(names: list[str], connection: str, extra: dict | None = None) -> str:
    """An inventory file: `docker` (docker exec as root) or `ssh` (as the unprivileged account,
    sudo with its password, the host key taken on first contact as a new user would; SSH as
    Ansible's default connection, named nowhere). `ssh-fqcn` is the same with each host's
    ansible_connection named `ansible.builtin.ssh`, as ansible-lint's FQCN rule would have it: that
    name costs the controller more per task (plugins/callback/connection_preload.py)."""
    hosts = {}
    for name in names:
        if connection == "docker":
            hosts[name] = {"ansible_connection": "community.docker.docker"}
        else:
            hosts[name] = {**({"ansible_connection": "ansible.builtin.ssh"} if connection == "ssh-fqcn" else {}),
                           "ansible_host": address(name),
                           "ansible_user": SSH_USER, "ansible_ssh_private_key_file": str(key()),
                           "ansible_become_password": SUDO_PASSWORD,
                           "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}
    data = {"notebooks": {"hosts": hosts, "vars": {"notebook_password": PASSWORD, **(extra or {})}}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, dir=OUT) as fh:
        json.dump(data, fh)
    return fh.name
