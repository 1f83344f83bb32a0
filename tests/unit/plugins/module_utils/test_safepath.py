# SPDX-License-Identifier: GPL-3.0-or-later
"""_safepath: directories and files made by root where another user can write, on real files.

The hostile user is uid 65534 (nobody): it owns the directory the role hands it, plants links
there, and root must never change what those links point at."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _safepath

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
NOBODY = 65534


@pytest.fixture
def base(tmp_path):
    """A root-owned 0755 directory (trusted) to build the layouts in."""
    os.chmod(tmp_path, 0o755)
    return tmp_path


def owned(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_makes_directories_and_parents_then_changes_nothing(base):
    walker = _safepath.Walker()
    target = base / "home" / "notebooks"
    assert _safepath.ensure(str(target), "directory", NOBODY, NOBODY, 0o750, walker)
    assert owned(target) == owned(base / "home") == (NOBODY, NOBODY, 0o750)
    again = _safepath.Walker()
    assert not _safepath.ensure(str(target), "directory", NOBODY, NOBODY, 0o750, again)
    assert again.actions == []
    assert not _safepath.differs(str(target), "directory", NOBODY, NOBODY, 0o750)


def test_owner_and_mode_are_put_right(base):
    target = base / "dir"
    target.mkdir(mode=0o777)
    os.chmod(target, 0o777)
    assert _safepath.differs(str(target), "directory", NOBODY, NOBODY, 0o750)
    walker = _safepath.Walker()
    assert _safepath.ensure(str(target), "directory", NOBODY, NOBODY, 0o750, walker)
    assert owned(target) == (NOBODY, NOBODY, 0o750)
    assert walker.actions == [f"chown {target}", f"chmod {target} 0750"]


def hostile_home(base):
    home = base / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    os.chmod(home, 0o750)
    victim = base / "victim"
    victim.mkdir()
    os.chmod(victim, 0o755)
    return home, victim


def test_a_link_the_account_planted_is_replaced_and_its_target_left_alone(base):
    home, victim = hostile_home(base)
    link = home / "notebooks"
    link.symlink_to(victim)
    os.lchown(link, NOBODY, NOBODY)
    walker = _safepath.Walker()
    assert _safepath.ensure(str(link), "directory", NOBODY, NOBODY, 0o750, walker)
    assert owned(victim) == (0, 0, 0o755)
    assert not link.is_symlink() and owned(link) == (NOBODY, NOBODY, 0o750)
    assert any(str(victim) in warning for warning in walker.warnings)


def test_a_planted_link_on_the_way_is_replaced_too(base):
    home, victim = hostile_home(base)
    (home / "work").symlink_to(victim)
    os.lchown(home / "work", NOBODY, NOBODY)
    target = home / "work" / "notebooks"
    _safepath.ensure(str(target), "directory", NOBODY, NOBODY, 0o750, _safepath.Walker())
    assert owned(victim) == (0, 0, 0o755) and list(victim.iterdir()) == []
    assert owned(target) == (NOBODY, NOBODY, 0o750)


def test_check_mode_reports_the_link_and_changes_nothing(base):
    home, victim = hostile_home(base)
    (home / "notebooks").symlink_to(victim)
    os.lchown(home / "notebooks", NOBODY, NOBODY)
    walker = _safepath.Walker(check_mode=True)
    assert _safepath.ensure(str(home / "notebooks"), "directory", NOBODY, NOBODY, 0o750, walker)
    assert (home / "notebooks").is_symlink() and owned(victim) == (0, 0, 0o755)
    assert walker.actions == [f"replace the link {home / 'notebooks'} by a directory"]


def test_a_root_owned_link_in_an_untrusted_directory_is_refused(base):
    home, victim = hostile_home(base)
    (home / "notebooks").symlink_to(victim)
    with pytest.raises(_safepath.UnsafePath, match=r"notebooks is a symbolic link \(to .*victim\)"):
        _safepath.ensure(str(home / "notebooks"), "directory", NOBODY, NOBODY, 0o750, _safepath.Walker())
    assert owned(victim) == (0, 0, 0o755)


def test_links_in_root_only_directories_are_followed(base):
    real = base / "real"
    real.mkdir()
    (base / "alias").symlink_to("real")
    _safepath.ensure(str(base / "alias" / "dir"), "directory", NOBODY, NOBODY, 0o750, _safepath.Walker())
    assert owned(real / "dir") == (NOBODY, NOBODY, 0o750)


def test_something_else_in_the_way_is_an_error_naming_it(base):
    home, _victim = hostile_home(base)
    (home / "notebooks").write_text("not a directory")
    with pytest.raises(_safepath.UnsafePath, match="notebooks exists and is not a directory"):
        _safepath.ensure(str(home / "notebooks"), "directory", NOBODY, NOBODY, 0o750, _safepath.Walker())


def test_marker_file_is_made_and_kept(base):
    marker = base / "conf" / "migrated"
    assert _safepath.ensure(str(marker), "file", 0, NOBODY, 0o640, _safepath.Walker())
    assert owned(marker) == (0, NOBODY, 0o640) and marker.read_text() == ""
    marker.write_text("kept")
    os.chmod(marker, 0o777)
    assert _safepath.ensure(str(marker), "file", 0, NOBODY, 0o640, _safepath.Walker())
    assert marker.read_text() == "kept" and owned(marker) == (0, NOBODY, 0o640)


def test_a_planted_link_or_fifo_at_a_file_path_is_not_followed(base):
    home, victim = hostile_home(base)
    secret = victim / "secret"
    secret.write_text("root's")
    os.chmod(secret, 0o600)
    (home / "marker").symlink_to(secret)
    os.lchown(home / "marker", NOBODY, NOBODY)
    _safepath.ensure(str(home / "marker"), "file", NOBODY, NOBODY, 0o640, _safepath.Walker())
    assert owned(secret) == (0, 0, 0o600) and not (home / "marker").is_symlink()
    fifo = home / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(_safepath.UnsafePath, match="not a regular file"):
        _safepath.ensure(str(fifo), "file", NOBODY, NOBODY, 0o640, _safepath.Walker())


def test_the_walk_refuses_dot_dot_and_relative_paths():
    with pytest.raises(_safepath.UnsafePath, match="'..'"):
        _safepath.Walker().open_dir("/etc/../tmp")
    with pytest.raises(_safepath.UnsafePath, match="absolute"):
        _safepath.Walker().open_dir("etc")


ATTACK = """
import os, sys, time
home, victim = sys.argv[1], sys.argv[2]
path, old = os.path.join(home, "notebooks"), os.path.join(home, "old")
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    for step in (lambda: os.chmod(path, 0o700), lambda: os.rename(path, old), lambda: os.symlink(victim, path),
                 lambda: os.unlink(path), lambda: os.rename(old, path)):
        try:
            step()
        except OSError:
            pass
"""


def test_a_link_swapped_in_while_root_works_is_never_followed(base):
    """The account races root from another process: it swaps its directory for a link to the
    victim as fast as it can, putting its mode "wrong" each time so root always has a chmod to
    do. Whatever the timing, the victim never changes."""
    home, victim = hostile_home(base)
    target = home / "notebooks"
    target.mkdir()
    attacker = subprocess.Popen([sys.executable, "-c", ATTACK, str(home), str(victim), "3"])
    tries = 0
    try:
        while attacker.poll() is None:
            tries += 1
            try:
                _safepath.ensure(str(target), "directory", NOBODY, NOBODY, 0o750, _safepath.Walker())
            except (_safepath.UnsafePath, OSError):
                pass
    finally:
        attacker.wait()
    assert tries > 100
    assert owned(victim) == (0, 0, 0o755)


def test_lock_directory_must_be_root_only(base):
    walker = _safepath.Walker()
    fd = _safepath.root_dir_fd(str(base / "locks"), walker)
    os.close(fd)
    assert owned(base / "locks") == (0, 0, 0o700)
    os.chmod(base / "locks", 0o1777)
    with pytest.raises(_safepath.UnsafePath, match="must be owned by root with mode 0700"):
        _safepath.root_dir_fd(str(base / "locks"), walker)


def test_lock_file_is_opened_without_following_a_link(base):
    locks = base / "locks"
    locks.mkdir(mode=0o700)
    (locks / "x.lock").symlink_to(base / "elsewhere")
    fd = os.open(locks, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(OSError):
            _safepath.open_lock(fd, "x.lock")
    finally:
        os.close(fd)
    assert not (base / "elsewhere").exists()
