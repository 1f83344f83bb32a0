# SPDX-License-Identifier: GPL-3.0-or-later
"""_host: the read-only answers about a host, from this machine's dpkg database, accounts and
files made here, and systemd (real when it runs, else a stand-in ``systemctl`` on PATH)."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pickle
import pwd
import shutil
import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _host

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


def _systemctl_usable() -> bool:
    if shutil.which("systemctl") is None:
        return False
    proc = subprocess.run(["systemctl", "show", "--property=ActiveState", "nbops-probe-no-such-unit.service"],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.startswith("ActiveState=")


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_packages_lists_the_installed_ones_only():
    """dpkg and tar are installed here; a name dpkg does not know is not reported."""
    assert _host.packages(["tar", "nbops-no-such-package", "dpkg"]) == ["dpkg", "tar"]
    assert _host.packages(["nbops-no-such-package"]) == []


def test_packages_counts_only_the_installed_status(monkeypatch):
    """Removed (config-files), half-installed and not-installed packages are not installed; no names asks nothing."""
    asked = []

    def fake_run(argv):
        asked.append(argv)
        out = "zlib1g installed\nnano config-files\nvim half-installed\nmc not-installed\nbash installed\n"
        return subprocess.CompletedProcess(argv, 0, stdout=out, stderr="")

    monkeypatch.setattr(_host, "_run", fake_run)
    assert _host.packages(["zlib1g", "nano", "vim", "mc", "bash"]) == ["bash", "zlib1g"]
    assert asked[0][:2] == ["dpkg-query", "-W"] and asked[0][-5:] == ["zlib1g", "nano", "vim", "mc", "bash"]
    assert _host.packages([]) == [] and len(asked) == 1


def test_account_as_the_role_makes_it():
    """An account with the wanted primary group, home and shell is ok, and what it is now is returned."""
    root = pwd.getpwnam("root")
    answer = _host.account("root", grp.getgrgid(root.pw_gid).gr_name, root.pw_dir, root.pw_shell)
    assert answer["group_ok"] and answer["user_ok"]
    # root has a login shell: a person's account, which the role refuses to take over.
    assert answer["user"] == {"uid": 0, "gid": root.pw_gid, "home": root.pw_dir, "shell": root.pw_shell,
                              "login": root.pw_shell not in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")}
    assert answer["group"] == {"gid": root.pw_gid, "members": sorted(grp.getgrgid(root.pw_gid).gr_mem),
                               "primary_of": sorted(p.pw_name for p in pwd.getpwall() if p.pw_gid == root.pw_gid)}


def test_account_that_differs_or_is_missing():
    """Another shell, home or primary group is not ok; a missing user or group is reported as such."""
    root = pwd.getpwnam("root")
    group = grp.getgrgid(root.pw_gid).gr_name
    other_shell = _host.account("root", group, root.pw_dir, "/usr/sbin/nologin-nbops")
    assert other_shell["group_ok"] and not other_shell["user_ok"] and other_shell["user"]["shell"] == root.pw_shell
    assert not _host.account("root", group, "/nonexistent-nbops", root.pw_shell)["user_ok"]
    other_group = grp.getgrgid(NOBODY).gr_name
    assert not _host.account("root", other_group, root.pw_dir, root.pw_shell)["user_ok"]
    assert _host.account("nbops-no-such-user", group, "/x", "/bin/sh") == {
        "group_ok": True, "user_ok": False, "user": None,
        "group": {"gid": root.pw_gid, "members": sorted(grp.getgrgid(root.pw_gid).gr_mem),
                  "primary_of": sorted(p.pw_name for p in pwd.getpwall() if p.pw_gid == root.pw_gid)}}
    # Without the group, the user is still reported: an existing account must be seen before it is taken over.
    missing_group = _host.account("root", "nbops-no-such-group", root.pw_dir, root.pw_shell)
    assert (missing_group["group_ok"], missing_group["user_ok"], missing_group["group"]) == (False, False, None)
    assert missing_group["user"]["uid"] == 0


@as_root
def test_rendered_sha1_only_with_the_right_owner_group_and_mode(tmp_path):
    """The sha1 of a plain file with the wanted owner, group and mode; None for anything else."""
    target = tmp_path / "jupyter_server_config.json"
    target.write_text("{}\n")
    os.chmod(target, 0o640)
    wanted = ("root", grp.getgrgid(0).gr_name, "0640")
    assert _host.rendered(str(target), *wanted) == hashlib.sha1(b"{}\n").hexdigest()
    assert _host.rendered(str(target), "root", grp.getgrgid(0).gr_name, "640") == hashlib.sha1(b"{}\n").hexdigest()
    os.chmod(target, 0o644)
    assert _host.rendered(str(target), *wanted) is None
    os.chmod(target, 0o640)
    os.chown(target, NOBODY, 0)
    assert _host.rendered(str(target), *wanted) is None
    os.chown(target, 0, NOBODY)
    assert _host.rendered(str(target), *wanted) is None
    os.chown(target, 0, 0)
    assert _host.rendered(str(target), *wanted) is not None
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert _host.rendered(str(link), *wanted) is None
    assert _host.rendered(str(tmp_path / "absent.json"), *wanted) is None
    directory = tmp_path / "dir"
    directory.mkdir(mode=0o640)
    os.chmod(directory, 0o640)
    assert _host.rendered(str(directory), *wanted) is None


def test_deployed_hashes_from_either_notebook_versions_config(tmp_path):
    """Notebook 7's PasswordIdentityProvider.hashed_password and 6's NotebookApp.password; nothing from broken files."""
    cases = {
        "seven.json": ({"PasswordIdentityProvider": {"hashed_password": "argon2:$argon2id$x"}}, ["argon2:$argon2id$x"]),
        "six.json": ({"NotebookApp": {"password": "sha1:ab:cd"}, "ServerApp": {"port": 8888}}, ["sha1:ab:cd"]),
        "both.json": ({"NotebookApp": {"password": "sha1:ab:cd"}, "PasswordIdentityProvider": {"hashed_password": "argon2:y"}},
                      ["argon2:y", "sha1:ab:cd"]),
        "empty.json": ({"PasswordIdentityProvider": {"hashed_password": ""}}, []),
        "not-a-string.json": ({"NotebookApp": {"password": 42}}, []),
        "not-a-section.json": ({"NotebookApp": "password"}, []),
        "a-list.json": ([{"NotebookApp": {"password": "sha1:ab:cd"}}], []),
    }
    for name, (config, expected) in cases.items():
        (tmp_path / name).write_text(json.dumps(config))
        assert _host.deployed_hashes(str(tmp_path / name)) == expected, name
    (tmp_path / "broken.json").write_text("{not json")
    assert _host.deployed_hashes(str(tmp_path / "broken.json")) == []
    assert _host.deployed_hashes(str(tmp_path / "absent.json")) == []


@pytest.mark.skipif(not _systemctl_usable(), reason="systemctl is not usable here (systemd is not PID 1); "
                                                    "the stand-in systemctl tests below cover the parsing")
def test_service_that_does_not_exist_is_inactive_with_no_restart_pending(tmp_path):
    """The real systemd: a unit that does not exist is inactive, disabled, and owes no restart."""
    newer = tmp_path / "config.json"
    newer.touch()
    assert _service("nbops-no-such-unit", [str(newer)]) == {
        "active": False, "enabled": False, "main_pid": 0, "restart_pending": False, "restart_reasons": []}


def _service(name: str, restart_files: list[str]) -> dict:
    return _host.service(_host.services([name])[name], restart_files)


def fake_systemctl(tmp_path, monkeypatch, props: dict):
    """A ``systemctl`` first on PATH that prints ``props`` as `systemctl show` does, and logs its argv."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "systemctl"
    lines = "".join(f"{key}={value}\n" for key, value in props.items())
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'argv.log'}\ncat <<'EOF'\n{lines}EOF\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "argv.log"


def test_service_without_systemd_answers_inactive(tmp_path, monkeypatch):
    """No output from systemctl (no such unit, or no systemd) is an inactive unit with no restart pending."""
    fake_systemctl(tmp_path, monkeypatch, {})
    (tmp_path / "config.json").touch()
    assert _service("nbops-no-such-unit", [str(tmp_path / "config.json")]) == {
        "active": False, "enabled": False, "main_pid": 0, "restart_pending": False, "restart_reasons": []}


def test_service_running_with_files_newer_than_its_process(tmp_path, monkeypatch):
    """An active unit owes a restart for a changed unit file and for each file written after its start;
    older and missing files give none."""
    started_monotonic = time.monotonic() - 100
    log = fake_systemctl(tmp_path, monkeypatch, {
        "ActiveState": "active", "UnitFileState": "enabled", "NeedDaemonReload": "yes", "MainPID": "4242",
        "ExecMainStartTimestampMonotonic": int(started_monotonic * 1e6)})
    older, newer = tmp_path / "older.json", tmp_path / "newer.json"
    older.touch()
    newer.touch()
    os.utime(older, (time.time() - 1000, time.time() - 1000))
    answer = _service("jupyter-notebook", [str(older), str(newer), str(tmp_path / "absent")])
    assert answer == {"active": True, "enabled": True, "main_pid": 4242, "restart_pending": True, "restart_reasons": [
        "the unit file changed since systemd loaded it", f"{newer} changed after the server started"]}
    assert log.read_text().split()[-1] == "jupyter-notebook.service"


def test_service_running_and_up_to_date_owes_no_restart(tmp_path, monkeypatch):
    """Files older than the process and a loaded unit file: no restart pending."""
    fake_systemctl(tmp_path, monkeypatch, {
        "ActiveState": "active", "UnitFileState": "disabled", "NeedDaemonReload": "no", "MainPID": "7",
        "ExecMainStartTimestampMonotonic": int((time.monotonic() - 10) * 1e6)})
    older = tmp_path / "older.json"
    older.touch()
    os.utime(older, (time.time() - 1000, time.time() - 1000))
    assert _service("jupyter-notebook", [str(older)]) == {
        "active": True, "enabled": False, "main_pid": 7, "restart_pending": False, "restart_reasons": []}


def test_several_units_in_one_systemctl_call(tmp_path, monkeypatch):
    """One block per unit named, in order; a call that fails, or prints another number of blocks, knows none."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "systemctl"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'argv.log'}\n"
                      "printf 'ActiveState=active\\nMainPID=12\\n\\nActiveState=inactive\\nMainPID=0\\n\\n"
                      "ActiveState=active\\nUnitFileState=enabled\\n'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    found = _host.services(["jupyter-notebook", "fail2ban", "nginx"])
    assert found == {"jupyter-notebook": {"ActiveState": "active", "MainPID": "12"},
                     "fail2ban": {"ActiveState": "inactive", "MainPID": "0"},
                     "nginx": {"ActiveState": "active", "UnitFileState": "enabled"}}
    assert (tmp_path / "argv.log").read_text().split()[-3:] == ["jupyter-notebook.service", "fail2ban.service", "nginx.service"]
    assert _host.services(["jupyter-notebook", "fail2ban"]) == {"jupyter-notebook": {}, "fail2ban": {}}
    script.write_text("#!/bin/sh\nexit 1\n")
    assert _host.services(["nginx"]) == {"nginx": {}}


def test_an_inactive_service_owes_no_restart(tmp_path, monkeypatch):
    """A stopped unit starts with the new files anyway: nothing pending even with a changed unit file."""
    fake_systemctl(tmp_path, monkeypatch, {"ActiveState": "failed", "UnitFileState": "enabled", "NeedDaemonReload": "yes",
                                           "MainPID": "0", "ExecMainStartTimestampMonotonic": "0"})
    (tmp_path / "config.json").touch()
    answer = _service("jupyter-notebook", [str(tmp_path / "config.json")])
    assert answer == {"active": False, "enabled": True, "main_pid": 0, "restart_pending": False, "restart_reasons": []}


def test_instances_are_read_from_the_roles_units_and_configs(tmp_path):
    """Each unit of this role (it sets JUPYTER_CONFIG_DIR and starts the venv's jupyter-notebook)
    is one instance, with the port from its config; other units are not."""
    units, config = tmp_path / "units", tmp_path / "etc-jupyter-lab"
    units.mkdir()
    config.mkdir()
    (config / "jupyter_server_config.json").write_text('{"ServerApp": {"port": 9999}}')
    (units / "jupyter-lab.service").write_text(
        "[Service]\nUser=jupyter-lab\nWorkingDirectory=/var/lib/jupyter-lab/notebooks\n"
        "ExecStart=/opt/jupyter-lab/venv/bin/jupyter-notebook\nEnvironment=HOME=/var/lib/jupyter-lab\n"
        f"Environment=JUPYTER_CONFIG_DIR={config}\n")
    (units / "ssh.service").write_text("[Service]\nExecStart=/usr/sbin/sshd -D\n")
    (units / "other-jupyter.service").write_text("[Service]\nExecStart=/usr/local/bin/jupyter-lab\n")
    assert _host.instances(str(units)) == [{
        "service": "jupyter-lab", "config_dir": str(config), "venv": "/opt/jupyter-lab/venv",
        "home": "/var/lib/jupyter-lab", "root_dir": "/var/lib/jupyter-lab/notebooks", "user": "jupyter-lab", "port": 9999}]
    (config / "jupyter_server_config.json").unlink()
    (config / "jupyter_notebook_config.json").write_text('{"NotebookApp": {"port": 8890}}')
    assert _host.instances(str(units))[0]["port"] == 8890
    # Behind nginx the config has a socket and no port: the unit's Description gives nginx's.
    (config / "jupyter_notebook_config.json").write_text('{"NotebookApp": {"sock": "/run/x/jupyter.sock"}}')
    unit = units / "jupyter-lab.service"
    unit.write_text("[Unit]\nDescription=Jupyter Notebook server (https://*:9443)\n" + unit.read_text())
    assert _host.instances(str(units))[0]["port"] == 9443


def test_kernels_reads_each_venv_and_finds_the_ones_no_longer_listed(tmp_path):
    """A wanted Python kernel's venv is read like the server's (missing: an install that creates
    it); venvs and kernelspecs of kernels no longer listed are stale, the listed ones never."""
    venvs, specs = tmp_path / "kernels", tmp_path / "etc" / "kernels"
    for directory in (venvs / "old", venvs / "py-extra", specs / "old", specs / "py-extra", specs / "ir"):
        directory.mkdir(parents=True)
    wanted = [{"name": "py-extra", "requirements": ["ipykernel", "tabulate"]}, {"name": "new", "requirements": ["ipykernel"]}]
    answer = _host.kernels(str(venvs), str(specs), wanted, ["py-extra", "new", "ir"])
    assert answer["stale"] == [str(venvs / "old"), str(specs / "old")]
    assert answer["venvs"]["new"]["plan"]["create"] is True
    assert answer["venvs"]["new"]["plan"]["install"] == ["ipykernel"]
    # An empty directory is no venv: made and installed anew.
    assert answer["venvs"]["py-extra"]["plan"]["create"] is True
    assert _host.kernels(str(tmp_path / "none"), str(tmp_path / "none2"), [], []) == {"venvs": {}, "stale": []}


class _Fail2banStandIn:
    """A Unix socket that answers one request as fail2ban's server does: ``answer`` (bytes), then END."""

    def __init__(self, path, answer: bytes):
        self.requests: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.thread = threading.Thread(target=self._serve, args=(answer,), daemon=True)
        self.thread.start()

    def _serve(self, answer):
        try:
            conn = self.server.accept()[0]
        except OSError:  # closed unasked
            return
        with conn:
            data = b""
            while not data.endswith(b"<F2B_END_COMMAND>"):
                data += conn.recv(4096)
            self.requests.append(data)
            conn.sendall(answer + b"<F2B_END_COMMAND>")
            self.requests.append(conn.recv(4096))

    def close(self):
        self.server.close()


def _fail2ban_dir(tmp_path):
    directory = tmp_path / "run-fail2ban"
    directory.mkdir()
    directory.chmod(0o755)
    return directory


@as_root
def test_fail2ban_jails_from_its_socket(tmp_path, monkeypatch):
    """The status command pickled, the answer's jail list read; the connection closed as fail2ban-client closes it."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no fail2ban-client to fall back on
    sock = _fail2ban_dir(tmp_path) / "fail2ban.sock"
    server = _Fail2banStandIn(sock, pickle.dumps((0, [("Number of jail", 2), ("Jail list", "sshd, jupyter-notebook")])))
    try:
        assert _host.fail2ban_jails(str(sock)) == ["sshd", "jupyter-notebook"]
        server.thread.join(5)
    finally:
        server.close()
    assert pickle.loads(server.requests[0][: -len(b"<F2B_END_COMMAND>")]) == ["status"]
    assert server.requests[1] == b"<F2B_CLOSE_COMMAND><F2B_END_COMMAND>"


@as_root
def test_fail2ban_answers_that_name_code_are_refused(tmp_path, monkeypatch):
    """The answer is plain data or nothing: a pickle that names a callable is never loaded (it would run as root)."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    sock = _fail2ban_dir(tmp_path) / "fail2ban.sock"
    planted = tmp_path / "ran"
    evil = pickle.dumps(_Runs(planted))
    server = _Fail2banStandIn(sock, evil)
    try:
        assert _host.fail2ban_jails(str(sock)) is None
        server.thread.join(5)
    finally:
        server.close()
    assert server.requests and not planted.exists()


class _Runs:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


@as_root
def test_a_fail2ban_socket_others_could_have_made_is_not_asked(tmp_path, monkeypatch):
    """A socket in a directory others can write, or of another owner, is not fail2ban's: no answer from it."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    directory = _fail2ban_dir(tmp_path)
    sock = directory / "fail2ban.sock"
    server = _Fail2banStandIn(sock, pickle.dumps((0, [("Jail list", "jupyter-notebook")])))
    try:
        directory.chmod(0o777)
        assert _host.fail2ban_jails(str(sock)) is None
        directory.chmod(0o755)
        os.lchown(sock, NOBODY, NOBODY)
        assert _host.fail2ban_jails(str(sock)) is None
        assert server.requests == []
    finally:
        server.close()
    assert _host.fail2ban_jails(str(directory / "missing.sock")) is None


def test_stray_config_in_the_venv_is_what_no_distribution_installed(tmp_path):
    """Files in the venv's etc/jupyter are read by the server: an extension's own (its RECORD lists them) are
    not stray, any other is; files in the other config directories are listed as not read."""
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    info = site / "nbext-1.0.dist-info"
    info.mkdir(parents=True)
    config = venv / "etc" / "jupyter" / "jupyter_server_config.d"
    config.mkdir(parents=True)
    (config / "nbext.json").write_text("{}")
    (config / "zz-weak.json").write_text("{}")
    (info / "RECORD").write_text("nbext/__init__.py,sha256=x,1\n"
                                 "../../../etc/jupyter/jupyter_server_config.d/nbext.json,sha256=y,2\n"
                                 "nbext-1.0.dist-info/RECORD,,\n")
    other = tmp_path / "etc-jupyter"
    other.mkdir()
    (other / "jupyter_server_config.json").write_text("{}")
    assert _host.stray_config([str(other), str(tmp_path / "absent")], str(venv)) == {
        "not_read": [str(other / "jupyter_server_config.json")], "read": [str(config / "zz-weak.json")]}
    for path in config.iterdir():
        path.unlink()
    assert _host.stray_config([], str(venv)) == {"not_read": [], "read": []}


@as_root
def test_stray_config_never_walks_a_link_the_service_account_planted(tmp_path):
    """~/.jupyter made a link to another tree by the account that owns the home: not walked, nothing named."""
    home = tmp_path / "home"
    home.mkdir()
    secret = tmp_path / "root-only"
    (secret / "sub").mkdir(parents=True)
    (secret / "sub" / "id_ed25519").write_text("x")
    (home / ".jupyter").symlink_to(secret)
    os.lchown(home / ".jupyter", NOBODY, NOBODY)
    os.chown(home, NOBODY, NOBODY)
    venv = tmp_path / "venv"
    venv.mkdir()
    assert _host.stray_config([str(home / ".jupyter")], str(venv))["not_read"] == []
    # A real directory there is walked; a link to a directory inside it is not followed.
    (home / ".jupyter").unlink()
    (home / ".jupyter" / "nbconfig").mkdir(parents=True)
    (home / ".jupyter" / "jupyter_server_config.json").write_text("{}")
    (home / ".jupyter" / "nbconfig" / "elsewhere").symlink_to(secret)
    assert _host.stray_config([str(home / ".jupyter")], str(venv))["not_read"] == [
        str(home / ".jupyter" / "jupyter_server_config.json")]


def test_plain_data_refuses_pickles_that_name_code():
    """Only the opcodes of plain data: a registered copyreg extension (EXT1), a global or a truncated
    length are refused before anything is loaded."""
    assert _host.plain_data(pickle.dumps((0, [("Jail list", "a, b")]), protocol=4)) == (0, [("Jail list", "a, b")])
    assert _host.plain_data(pickle.dumps({"s": {1, 2}, "f": frozenset([3]), "b": b"x", "n": None, "x": 1.5})) == {
        "s": {1, 2}, "f": frozenset([3]), "b": b"x", "n": None, "x": 1.5}
    for payload in (pickle.dumps(os.getcwd, protocol=2), b"\x80\x04\x82\xf0\x8c\x02id\x85R.",
                    b"\x80\x04\x8e" + (1 << 45).to_bytes(8, "little") + b"x."):
        with pytest.raises(ValueError):
            _host.plain_data(payload)
