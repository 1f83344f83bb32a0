# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_file on real directories under /run, as root, with uid/gid 65534
as the server's account (the one that would plant links or swap directories)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.nbops.jupyter.plugins.modules import notebook_file

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import AS_ROOT_WITH_NOBODY, NOBODY, nobody_account, run_module

pytestmark = AS_ROOT_WITH_NOBODY
USER, GROUP = nobody_account() or ("nobody", "nogroup")
SECRET = "sha512-like secret line 4f1c"


@pytest.fixture
def base():
    """A root-owned 0755 directory reached only through directories only root can write (the module
    refuses anything else, and tmp_path is under the world-writable /tmp): under /run."""
    for directory in ("/", "/run"):
        st = os.stat(directory)
        if st.st_uid != 0 or st.st_mode & 0o022:
            pytest.skip(f"{directory} is writable by others here: no trusted place for the tests")
    path = Path(tempfile.mkdtemp(prefix="nbops-file-test-", dir="/run"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def args(dest, content="one\n", **extra):
    return {"dest": str(dest), "content": content, "owner": "root", "group": GROUP, "mode": "0640", **extra}


def secret_args(dest, text, **extra):
    given = args(dest, **extra)
    del given["content"]
    return {**given, "secret_content": text}


def owned(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_writes_a_new_file_with_owner_and_mode_then_changes_nothing(base):
    dest = base / "server.json"
    first = run_module(notebook_file, args(dest))
    assert first["changed"] is True and first["actions"] == [f"write {dest}"]
    assert dest.read_text() == "one\n"
    assert owned(dest) == (0, NOBODY, 0o640)
    again = run_module(notebook_file, args(dest))
    assert again["changed"] is False and again["actions"] == []
    assert sorted(os.listdir(base)) == ["server.json"], "a temporary file was left behind"


def test_new_content_replaces_the_file_whole_after_its_check(base):
    dest = base / "jail.conf"
    run_module(notebook_file, args(dest))
    inode = os.stat(dest).st_ino
    result = run_module(notebook_file, args(dest, "two\n", validate="grep -qx two %s"))
    assert result["changed"] is True and dest.read_text() == "two\n"
    assert os.stat(dest).st_ino != inode, "written in place, not renamed over it: a reader could see half a file"


def test_content_that_fails_its_check_never_lands(base):
    dest = base / "filter.conf"
    run_module(notebook_file, args(dest))
    result = run_module(notebook_file, args(dest, "broken\n", validate="grep -qx fine %s"))
    assert result.get("failed") is True
    assert str(dest) in result["msg"] and "failed its check" in result["msg"]
    assert dest.read_text() == "one\n"
    assert sorted(os.listdir(base)) == ["filter.conf"], "the rejected temporary file was left behind"


def test_validate_without_the_path_placeholder_is_refused(base):
    dest = base / "x.conf"
    result = run_module(notebook_file, args(dest, validate="true"))
    assert result.get("failed") is True and "%s" in result["msg"]
    assert not dest.exists()


def test_only_owner_and_mode_are_fixed_in_place(base):
    dest = base / "openssl.cnf"
    run_module(notebook_file, args(dest))
    os.chown(dest, NOBODY, 0)
    os.chmod(dest, 0o666)
    inode = os.stat(dest).st_ino
    result = run_module(notebook_file, args(dest))
    assert result["changed"] is True and result["actions"] == [f"set owner and mode of {dest}"]
    assert owned(dest) == (0, NOBODY, 0o640) and os.stat(dest).st_ino == inode


@pytest.mark.parametrize("kind", ["owned by the account", "group-writable"])
def test_a_directory_another_user_can_write_is_refused(base, kind):
    directory = base / "d"
    directory.mkdir()
    if kind == "owned by the account":
        os.chown(directory, NOBODY, NOBODY)
        os.chmod(directory, 0o755)
    else:
        os.chmod(directory, 0o775)
    result = run_module(notebook_file, args(directory / "f.conf"))
    assert result.get("failed") is True and str(directory) in result["msg"] and "another user can write" in result["msg"]
    assert os.listdir(directory) == []


def test_a_link_in_place_of_the_file_is_refused_and_its_target_untouched(base):
    target = base / "target"
    target.write_text("keep\n")
    os.chmod(target, 0o600)
    dest = base / "unit.service"
    os.symlink(target, dest)
    result = run_module(notebook_file, args(dest))
    assert result.get("failed") is True and str(dest) in result["msg"]
    assert os.path.islink(dest) and target.read_text() == "keep\n" and owned(target) == (0, 0, 0o600)


def test_a_directory_reached_through_a_link_the_account_planted_is_refused(base):
    real = base / "real"
    real.mkdir()
    shared = base / "shared"
    shared.mkdir()
    os.chown(shared, NOBODY, NOBODY)
    os.symlink(real, shared / "conf")
    result = run_module(notebook_file, args(shared / "conf" / "f.conf"))
    assert result.get("failed") is True and str(shared) in result["msg"]
    assert os.listdir(real) == []


def test_check_mode_predicts_and_writes_nothing(base):
    dest = base / "server.json"
    result = run_module(notebook_file, args(dest, _ansible_diff=True), check_mode=True)
    assert result["changed"] is True and not dest.exists()
    assert result["diff"]["before"] == "" and result["diff"]["after"] == "one\n"
    missing = run_module(notebook_file, args(base / "not-yet" / "f.conf"), check_mode=True)
    assert missing["changed"] is True, "a directory a normal run makes first must not fail check mode"
    assert run_module(notebook_file, args(base / "not-yet" / "f.conf")).get("failed") is True


def test_a_secret_is_neither_in_the_result_nor_in_a_diff(base):
    dest = base / "server.json"
    run_module(notebook_file, args(dest, SECRET + "\n"))
    shown = run_module(notebook_file, secret_args(dest, SECRET + " v2\n", _ansible_diff=True, _ansible_verbosity=3))
    assert shown["changed"] is True and "diff" not in shown
    assert SECRET not in json.dumps(shown)
    assert dest.read_text() == SECRET + " v2\n"
    diffed = run_module(notebook_file, args(dest, "public\n", _ansible_diff=True))
    assert diffed["diff"]["before"] == SECRET + " v2\n" and diffed["diff"]["after"] == "public\n"


def test_a_secret_never_reaches_the_hosts_log(base):
    """AnsibleModule logs its arguments (journal or syslog) as it starts, before the module runs."""
    logged = []
    with mock.patch.object(notebook_file.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg)):
        run_module(notebook_file, secret_args(base / "a.json", SECRET + "\n"))
        run_module(notebook_file, args(base / "b.conf", "public line 77\n"))
    assert logged, "the module logged nothing: this test would prove nothing"
    assert "public line 77" in " ".join(logged)
    assert SECRET not in " ".join(logged)


def test_a_secret_that_fails_its_check_keeps_the_checker_output_out(base):
    dest = base / "server.json"
    result = run_module(notebook_file, secret_args(dest, SECRET + "\n", validate="sh -c 'cat \"$1\"; exit 1' sh %s"))
    assert result.get("failed") is True and "failed its check" in result["msg"]
    assert SECRET not in json.dumps(result) and not dest.exists()


def test_the_file_is_roots_alone_while_it_is_checked(base):
    dest = base / "kernel.json"
    check = "sh -c 'test \"$(stat -c %%a:%%u:%%g \"$1\")\" = 600:0:0' sh %s"
    result = run_module(notebook_file, args(dest, validate=check))
    assert result["changed"] is True, result.get("msg")
    assert owned(dest) == (0, NOBODY, 0o640)


def test_a_directory_on_the_way_another_user_owns_is_refused(base):
    owned_by_account = base / "u"
    owned_by_account.mkdir()
    os.chown(owned_by_account, NOBODY, NOBODY)
    inner = owned_by_account / "c"
    inner.mkdir()
    result = run_module(notebook_file, args(inner / "f.conf"))
    assert result.get("failed") is True and str(owned_by_account) in result["msg"]
    assert os.listdir(inner) == []
    predicted = run_module(notebook_file, args(inner / "f.conf"), check_mode=True)
    assert predicted["changed"] is True and str(owned_by_account) in json.dumps(predicted.get("warnings", []))


@pytest.mark.parametrize("validate", ["grep %d %s", "grep 100% %s"])
def test_a_validate_with_a_stray_percent_gets_a_clear_error(base, validate):
    dest = base / "x.conf"
    result = run_module(notebook_file, args(dest, validate=validate))
    assert result.get("failed") is True and "%%" in result["msg"] and validate in result["msg"]
    assert os.listdir(base) == []


def test_an_unquoted_mode_is_the_number_yaml_made_of_it(base):
    dest = base / "unit.service"
    result = run_module(notebook_file, args(dest, mode=0o640))
    assert result["changed"] is True and owned(dest) == (0, NOBODY, 0o640)


def many(*items, **extra):
    return {"files": list(items), **extra}


def test_the_single_form_tells_what_it_wrote(base):
    dest = base / "server.json"
    assert run_module(notebook_file, args(dest))["written"] == [str(dest)]
    assert run_module(notebook_file, args(dest))["written"] == []
    os.chmod(dest, 0o600)
    assert run_module(notebook_file, args(dest))["written"] == [str(dest)]
    failed = run_module(notebook_file, args(dest, "two\n", validate="false %s"))
    assert failed.get("failed") is True and failed["written"] == [] and failed["actions"] == []


@pytest.mark.parametrize("missing", ["owner", "group", "mode", "content"])
def test_the_single_form_names_a_missing_option(base, missing):
    given = args(base / "x.conf")
    del given[missing]
    result = run_module(notebook_file, given)
    assert result.get("failed") is True and missing in result["msg"]
    assert os.listdir(base) == []


def test_files_writes_several_files_with_their_owners_and_modes_in_one_call(base):
    unit, cnf = base / "unit.service", base / "openssl.cnf"
    result = run_module(notebook_file, many(args(unit, "unit\n", mode="0644"),
                                            args(cnf, "cnf\n", owner=USER, group="root", mode=0o600)))
    assert result["changed"] is True
    assert result["actions"] == [f"write {unit}", f"write {cnf}"]
    assert result["written"] == [str(unit), str(cnf)]
    assert unit.read_text() == "unit\n" and owned(unit) == (0, NOBODY, 0o644)
    assert cnf.read_text() == "cnf\n" and owned(cnf) == (NOBODY, 0, 0o600)
    assert sorted(os.listdir(base)) == ["openssl.cnf", "unit.service"], "a temporary file was left behind"


def test_files_are_written_in_order_and_a_later_check_sees_an_earlier_file_in_place(base):
    filter_, jail = base / "filter.conf", base / "jail.conf"
    # The filter whole (content, mode) under its name before the jail's check runs.
    check = f"sh -c 'grep -qx filter \"$1\" && test \"$(stat -c %%a \"$1\")\" = 640 && grep -qx jail \"$2\"' sh {filter_} %s"
    result = run_module(notebook_file, many(args(filter_, "filter\n"), args(jail, "jail\n", validate=check)))
    assert result["changed"] is True, result.get("msg")
    assert result["written"] == [str(filter_), str(jail)]
    assert jail.read_text() == "jail\n"


def test_files_stop_at_the_first_failure_and_tell_what_was_done(base):
    first, second, third = base / "filter.conf", base / "jail.conf", base / "unit.service"
    run_module(notebook_file, args(second, "old\n"))
    result = run_module(notebook_file, many(args(first, "first\n"), args(second, "broken\n", validate="grep -qx fine %s"),
                                            args(third, "third\n")))
    assert result.get("failed") is True
    assert str(second) in result["msg"] and "failed its check" in result["msg"]
    assert result["written"] == [str(first)] and result["actions"] == [f"write {first}"]
    assert first.read_text() == "first\n"
    assert second.read_text() == "old\n", "the file whose check failed was replaced"
    assert not third.exists(), "a file after the failure was written"
    assert sorted(os.listdir(base)) == ["filter.conf", "jail.conf"], "a temporary file was left behind"


def test_files_name_the_file_when_its_directory_is_refused(base):
    shared = base / "shared"
    shared.mkdir()
    os.chown(shared, NOBODY, NOBODY)
    first, refused = base / "a.conf", shared / "b.conf"
    result = run_module(notebook_file, many(args(first), args(refused)))
    assert result.get("failed") is True and str(refused) in result["msg"] and "another user can write" in result["msg"]
    assert result["written"] == [str(first)] and os.listdir(shared) == []


def test_files_in_check_mode_write_nothing_and_tell_what_would_be_written(base):
    new, mode_only, same = base / "new.conf", base / "mode.conf", base / "same.conf"
    later = base / "not-yet" / "f.conf"
    run_module(notebook_file, args(mode_only))
    os.chmod(mode_only, 0o600)
    run_module(notebook_file, args(same))
    result = run_module(notebook_file, many(args(new), args(mode_only), args(same), args(later)), check_mode=True)
    assert result["changed"] is True
    assert result["written"] == [str(new), str(mode_only), str(later)]
    assert result["actions"] == [f"write {new}", f"set owner and mode of {mode_only}", f"write {later}"]
    assert sorted(os.listdir(base)) == ["mode.conf", "same.conf"]
    assert owned(mode_only) == (0, NOBODY, 0o600)


def test_files_already_in_place_change_nothing(base):
    items = many(args(base / "a.conf", "a\n"), args(base / "b.conf", "b\n", validate="grep -qx b %s"), _ansible_diff=True)
    assert run_module(notebook_file, items)["changed"] is True
    again = run_module(notebook_file, items)
    assert again["changed"] is False and again["written"] == [] and again["actions"] == []
    assert "diff" not in again


def test_files_diff_is_a_list_of_the_changed_files_only(base):
    same, changed = base / "same.conf", base / "changed.conf"
    run_module(notebook_file, args(same, "same\n"))
    run_module(notebook_file, args(changed, "before\n"))
    result = run_module(notebook_file, many(args(same, "same\n"), args(changed, "after\n"), _ansible_diff=True))
    assert result["written"] == [str(changed)]
    assert result["diff"] == [{"before_header": str(changed), "after_header": str(changed),
                               "before": "before\n", "after": "after\n"}]


@pytest.mark.parametrize("option", ["dest", "content", "secret_content", "owner", "group", "mode", "validate"])
def test_files_with_an_option_of_the_single_form_is_refused(base, option):
    value = {"dest": str(base / "single.conf"), "mode": "0640", "validate": "true %s"}.get(option, "root")
    result = run_module(notebook_file, many(args(base / "a.conf"), **{option: value}))
    assert result.get("failed") is True and "mutually exclusive" in result["msg"] and option in result["msg"]
    assert os.listdir(base) == []


def test_neither_dest_nor_files_is_refused():
    result = run_module(notebook_file, {})
    assert result.get("failed") is True and "dest" in result["msg"] and "files" in result["msg"]


def test_files_hold_no_secret(base):
    result = run_module(notebook_file, many({**args(base / "a.json"), "secret_content": SECRET + "\n"}))
    assert result.get("failed") is True and "secret_content" in result["msg"]
    assert os.listdir(base) == []


def test_files_naming_one_file_twice_are_refused_before_anything_is_written(base):
    dest = base / "a.conf"
    result = run_module(notebook_file, many(args(base / "first.conf"), args(dest, "one\n"), args(base / "." / "a.conf", "two\n")))
    assert result.get("failed") is True and str(dest) in result["msg"] and "twice" in result["msg"]
    assert os.listdir(base) == []
