# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_paths on real directories under tmp_path, as root, with uid/gid 65534
as the server's account (the one that may plant links in the directories it owns)."""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat

import pytest

from ansible_collections.nbops.jupyter.plugins.modules import notebook_paths

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import AS_ROOT_WITH_NOBODY, NOBODY, nobody_account, run_module

pytestmark = AS_ROOT_WITH_NOBODY
USER, GROUP = nobody_account() or ("nobody", "nogroup")
ROOT_GROUP = grp.getgrgid(0).gr_name


@pytest.fixture
def base(tmp_path):
    """A root-owned 0755 directory (trusted) to build the layouts in."""
    os.chmod(tmp_path, 0o755)
    return tmp_path


def owned(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def warnings(result) -> str:
    """The module's warnings as one text (ansible-core 2.19 returns them as structured events)."""
    return json.dumps(result.get("warnings", []))


def listing(root):
    """Every entry under root with its kind, owner, mode, size, mtime and link target."""
    entries = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            entries[path] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns,
                             os.readlink(path) if stat.S_ISLNK(st.st_mode) else None)
    return entries


def layout(base):
    return [
        {"path": str(base / "var" / "home" / "notebooks"), "owner": USER, "group": GROUP, "mode": "0750"},
        {"path": str(base / "etc" / "jupyter"), "owner": "root", "group": GROUP, "mode": "0750"},
        {"path": str(base / "etc" / "jupyter" / "migrated"), "owner": "root", "group": GROUP, "mode": "0640", "state": "file"},
    ]


def test_makes_directories_parents_and_a_marker_then_changes_nothing(base):
    """Directories and parents get the path's owner, group and mode, the marker is an empty file;
    a second run changes nothing and reports no actions."""
    first = run_module(notebook_paths, {"paths": layout(base)})
    assert not first.get("failed"), first
    assert first["changed"]
    marker = base / "etc" / "jupyter" / "migrated"
    assert first["actions"] == [f"create {base / 'var'}", f"create {base / 'var' / 'home'}", f"create {base / 'var' / 'home' / 'notebooks'}",
                                f"create {base / 'etc'}", f"create {base / 'etc' / 'jupyter'}",
                                f"create {marker}", f"chown {marker}", f"chmod {marker} 0640"]
    for path in ("var", "var/home", "var/home/notebooks"):
        assert owned(base / path) == (NOBODY, NOBODY, 0o750), path
    assert owned(base / "etc" / "jupyter") == (0, NOBODY, 0o750)
    assert marker.is_file() and not marker.is_symlink() and owned(marker) == (0, NOBODY, 0o640) and marker.read_text() == ""
    before = listing(base)
    second = run_module(notebook_paths, {"paths": layout(base)})
    assert not second["changed"] and second["actions"] == [] and "warnings" not in second
    assert listing(base) == before


def test_owner_and_mode_are_put_right_and_a_marker_keeps_its_content(base):
    """Only what differs is changed, through chown and chmod actions; the marker's content stays."""
    run_module(notebook_paths, {"paths": layout(base)})
    jupyter, marker = base / "etc" / "jupyter", base / "etc" / "jupyter" / "migrated"
    os.chown(jupyter, 0, 0)
    os.chmod(marker, 0o666)
    marker.write_text("kept")
    result = run_module(notebook_paths, {"paths": layout(base)})
    assert result["changed"] and result["actions"] == [f"chown {jupyter}", f"chmod {marker} 0640"]
    assert owned(jupyter) == (0, NOBODY, 0o750) and owned(marker) == (0, NOBODY, 0o640) and marker.read_text() == "kept"


def test_check_mode_reports_actions_and_changes_nothing(base):
    """Check mode lists what a run would do, on a fresh host and on one that is off, and touches nothing."""
    fresh = run_module(notebook_paths, {"paths": layout(base)}, check_mode=True)
    # The walk stops at the first directory it would make: what lies below it is not listed.
    assert fresh["changed"] and fresh["actions"][0] == f"create {base / 'var'}"
    assert f"create {base / 'etc'}" in fresh["actions"] and fresh["actions"][-1] == f"create {base / 'etc' / 'jupyter' / 'migrated'}"
    assert os.listdir(base) == []
    run_module(notebook_paths, {"paths": layout(base)})
    os.chmod(base / "etc" / "jupyter", 0o755)
    before = listing(base)
    off = run_module(notebook_paths, {"paths": layout(base)}, check_mode=True)
    assert off["changed"] and off["actions"] == [f"chmod {base / 'etc' / 'jupyter'} 0750"]
    assert listing(base) == before


def planted(base):
    """The account's home (65534, 0750) with a link it planted where the notebooks directory belongs,
    pointing at a root-owned directory with a file in it."""
    home = base / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    os.chmod(home, 0o750)
    victim = base / "victim"
    victim.mkdir()
    os.chmod(victim, 0o755)
    (victim / "secret").write_text("root's")
    os.chmod(victim / "secret", 0o600)
    link = home / "notebooks"
    link.symlink_to(victim)
    os.lchown(link, NOBODY, NOBODY)
    return link, victim


def test_a_planted_link_is_replaced_and_its_target_left_alone(base):
    """The link becomes the managed directory, the target keeps its owner, mode and content, and a warning says so."""
    link, victim = planted(base)
    target_before = listing(victim), owned(victim)
    spec = {"paths": [{"path": str(link), "owner": USER, "group": GROUP, "mode": "0750"}]}
    result = run_module(notebook_paths, spec)
    assert not result.get("failed"), result
    assert result["changed"] and result["actions"] == [f"replace the link {link} by a directory", f"create {link}"]
    assert f"{link} was a symbolic link to {victim}" in warnings(result) and f"{victim} left alone" in warnings(result)
    assert not link.is_symlink() and link.is_dir() and owned(link) == (NOBODY, NOBODY, 0o750)
    assert (listing(victim), owned(victim)) == target_before and (victim / "secret").read_text() == "root's"
    assert not run_module(notebook_paths, spec)["changed"]


def test_check_mode_reports_the_planted_link_and_leaves_it(base):
    """Check mode names the replacement and warns, but the link stays."""
    link, victim = planted(base)
    before = listing(base)
    result = run_module(notebook_paths, {"paths": [{"path": str(link), "owner": USER, "group": GROUP, "mode": "0750"}]}, check_mode=True)
    assert result["changed"] and result["actions"] == [f"replace the link {link} by a directory"]
    assert f"{link} was a symbolic link to {victim}" in warnings(result)
    assert link.is_symlink() and listing(base) == before
    assert owned(victim) == (0, 0, 0o755)


def test_a_root_owned_link_in_the_accounts_directory_is_an_error(base):
    """A root-owned link, which the account cannot have planted, is not removed: an error names it."""
    link, victim = planted(base)
    os.lchown(link, 0, 0)
    result = run_module(notebook_paths, {"paths": [{"path": str(link), "owner": USER, "group": GROUP, "mode": "0750"}]})
    assert result["failed"] and f"{link} is a symbolic link (to {victim})" in result["msg"]
    assert link.is_symlink() and owned(victim) == (0, 0, 0o755)


@pytest.mark.parametrize("mode", ["u=rwx,g=rx", "0758", "", "rwxr-x---"])
def test_a_bad_mode_string_is_an_error_naming_the_path(base, mode):
    """A mode that is not an octal string fails before anything is made, and the message names the path."""
    path = base / "etc" / "jupyter"
    result = run_module(notebook_paths, {"paths": [{"path": str(path), "owner": "root", "group": ROOT_GROUP, "mode": mode}]})
    assert result["failed"] and str(path) in result["msg"] and repr(mode) in result["msg"]
    assert os.listdir(base) == []


@pytest.mark.parametrize("mode", ["-0750", "17777"])
def test_a_mode_out_of_range_is_an_error_naming_the_path(base, mode):
    """A mode outside 0000-7777 is as bad as one that is not octal: an error naming the path, nothing made."""
    path = base / "etc" / "jupyter"
    result = run_module(notebook_paths, {"paths": [{"path": str(path), "owner": "root", "group": ROOT_GROUP, "mode": mode}]})
    assert result.get("failed") and str(path) in result["msg"]
    assert os.listdir(base) == []


def test_an_unknown_owner_is_an_error_naming_the_path_except_in_check_mode(base):
    """A user that does not exist fails naming the path; check mode predicts as if an earlier task had made it."""
    spec = {"paths": [{"path": str(base / "srv"), "owner": "nbops-no-such-user", "group": GROUP, "mode": "0750"}]}
    result = run_module(notebook_paths, spec)
    assert result["failed"] and f"{base / 'srv'}: user nbops-no-such-user" in result["msg"]
    predicted = run_module(notebook_paths, spec, check_mode=True)
    assert not predicted.get("failed") and predicted["actions"] == [f"create {base / 'srv'}"]
    assert os.listdir(base) == []


class Commands:
    """A module stand-in for notebook_paths.ensure_account: records the commands it would run."""

    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.argv = []

    def run_command(self, argv):
        self.argv.append(argv)
        return 0, "", ""


def account(user, group, home, shell="/usr/sbin/nologin"):
    return {"user": user, "group": group, "home": home, "shell": shell, "comment": "Jupyter Notebook server"}


def test_a_missing_account_is_made_as_a_system_group_and_user_without_a_home():
    module = Commands()
    actions = notebook_paths.ensure_account(module, account("nbops-no-such-user", "nbops-no-such-group", "/var/lib/nb"))
    assert actions == ["create group nbops-no-such-group", "create user nbops-no-such-user"]
    assert module.argv == [
        ["groupadd", "--system", "nbops-no-such-group"],
        ["useradd", "--system", "--gid", "nbops-no-such-group", "--home-dir", "/var/lib/nb", "--no-create-home",
         "--shell", "/usr/sbin/nologin", "--comment", "Jupyter Notebook server", "nbops-no-such-user"]]


def test_check_mode_predicts_the_account_and_runs_nothing():
    module = Commands(check_mode=True)
    actions = notebook_paths.ensure_account(module, account("nbops-no-such-user", "nbops-no-such-group", "/var/lib/nb"))
    assert actions == ["create group nbops-no-such-group", "create user nbops-no-such-user"]
    assert not module.argv


def system_account():
    """A system account of this machine (a uid below 1000, a shell that can't log in), as the role makes its own."""
    for person in pwd.getpwall():
        if 0 < person.pw_uid < 1000 and person.pw_shell in ("/usr/sbin/nologin", "/sbin/nologin"):
            return person
    pytest.skip("no system account with a nologin shell here")


def test_an_account_as_the_role_makes_it_is_left_alone_and_one_that_differs_is_changed():
    person = system_account()
    group = grp.getgrgid(person.pw_gid).gr_name
    module = Commands()
    assert notebook_paths.ensure_account(module, account(person.pw_name, group, person.pw_dir, person.pw_shell)) == []
    assert not module.argv
    actions = notebook_paths.ensure_account(module, account(person.pw_name, group, "/var/lib/elsewhere", "/bin/false"))
    assert actions == [f"set the home and shell of user {person.pw_name}"]
    assert module.argv == [["usermod", "--comment", "Jupyter Notebook server", "--home", "/var/lib/elsewhere",
                            "--shell", "/bin/false", person.pw_name]]


def test_a_persons_account_is_never_taken_over_and_nothing_is_made_first():
    # root has a shell to log in with: a person's account to the module. Its group is missing:
    # it must not be made before the refusal.
    module = Commands()
    with pytest.raises(notebook_paths._safepath.UnsafePath, match="account.user root is a person's account"):
        notebook_paths.ensure_account(module, account("root", "nbops-no-such-group", "/var/lib/nb"))
    assert not module.argv


def test_a_group_others_share_is_never_taken_over():
    # A group that is another account's primary group: the server's account would read its files.
    person = system_account()
    group = grp.getgrgid(person.pw_gid).gr_name
    module = Commands()
    with pytest.raises(notebook_paths._safepath.UnsafePath, match=f"account.group {group} is shared with .*{person.pw_name}"):
        notebook_paths.ensure_account(module, account("nbops-no-such-user", group, "/var/lib/nb"))
    assert not module.argv


def test_a_usermod_refused_for_a_running_user_says_what_it_applied_and_why():
    class Busy(Commands):
        def run_command(self, argv):
            super().run_command(argv)
            return 8, "", "usermod: user jupyter is currently used by process 42"

    person = system_account()
    group = grp.getgrgid(person.pw_gid).gr_name
    with pytest.raises(notebook_paths._safepath.UnsafePath, match="applying account.home: .*stop the server first"):
        notebook_paths.ensure_account(Busy(), account(person.pw_name, group, "/var/lib/elsewhere", person.pw_shell))


def test_a_failed_useradd_names_the_command_and_the_user():
    class Failing(Commands):
        def run_command(self, argv):
            super().run_command(argv)
            return 9, "", "useradd: cannot lock /etc/passwd"

    with pytest.raises(notebook_paths._safepath.UnsafePath,
                       match="groupadd for nbops-no-such-group failed .exit 9. applying account.group: useradd: cannot lock"):
        notebook_paths.ensure_account(Failing(), account("nbops-no-such-user", "nbops-no-such-group", "/var/lib/nb"))
