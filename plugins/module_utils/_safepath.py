# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Directories and files made by root in places another user can write, without following links.

The server's account runs arbitrary code (its kernels), and owns its home and notebooks
directory. Anything it can rename or replace may be a symbolic link by the time root looks, so
every path is walked one component at a time with file descriptors (``openat`` with
``O_NOFOLLOW``), and owner and mode are set through the descriptor of the object itself
(``fchown``/``fchmod``): nothing the account does between two calls can redirect them.

A link is followed only where nobody but root could have made or replaced it: in a directory
owned by root and writable by nobody else (``/var/run -> /run`` and links an administrator made
in such a place). A link in any other directory is never followed: where the role manages the
path itself, a link its account planted is removed and the directory made again; anything else
is an error that names the path.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import re
import stat

MAX_LINKS = 40
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(Exception):
    """A path the role will not touch; the message names it and says why."""


def parse_mode(text: str, path: str) -> int:
    """An octal mode string such as "0750" (three or four digits, nothing else)."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-7]{3,4}", text):
        raise UnsafePath(f"{path}: mode {text!r} is not an octal mode such as '0750'")
    return int(text, 8)


def account_ids(path: str, owner: str, group: str, check_mode: bool) -> tuple[int, int]:
    """The uid and gid ``path`` is to have; in check mode (-1, -1) for an account a normal run
    would have made first (no real id is needed to predict)."""
    try:
        return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError:
        if check_mode:
            return -1, -1
        raise UnsafePath(f"{path}: user {owner} or group {group} does not exist") from None


def trusted(st: os.stat_result) -> bool:
    """A directory in which only root can add, remove or replace entries."""
    return st.st_uid == 0 and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _components(path: str) -> list[str]:
    if not path.startswith("/"):
        raise UnsafePath(f"{path}: not an absolute path")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise UnsafePath(f"{path}: '.' and '..' are not allowed in the role's paths")
    return parts


class Walker:
    """Open directories by path from / without following untrusted links.

    ``replace_links`` (a set of absolute paths) names the paths where a link planted in an
    untrusted directory may be removed and replaced by a directory; ``create`` makes missing
    directories with the given owner, group and mode. What was done is appended to ``actions``.
    """

    def __init__(self, check_mode: bool = False):
        self.check_mode = check_mode
        self.actions: list[str] = []
        self.warnings: list[str] = []

    def open_dir(self, path: str, create: tuple[int, int, int] | None = None, replace_links: bool = False,
                 trusted_only: bool = False):
        """Return an O_DIRECTORY descriptor of ``path``, or None in check mode when it (or a
        parent) would have been made. The caller closes it. With ``trusted_only`` every directory
        on the way must be one only root can write (UnsafePath names the first that isn't)."""
        parts = _components(path)
        seen_links = 0
        fd = os.open("/", _DIR_FLAGS)
        done: list[str] = []
        try:
            while parts:
                name = parts.pop(0)
                here = "/" + "/".join(done + [name])
                parent_st = os.fstat(fd)
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    st = None
                if st is not None and stat.S_ISLNK(st.st_mode):
                    if trusted(parent_st):
                        seen_links += 1
                        if seen_links > MAX_LINKS:
                            raise UnsafePath(f"{path}: too many levels of symbolic links")
                        target = os.readlink(name, dir_fd=fd)
                        base = "/" + "/".join(done)
                        resolved = os.path.normpath(os.path.join(base, target))
                        parts = _components(resolved) + parts
                        done = []
                        os.close(fd)
                        fd = os.open("/", _DIR_FLAGS)
                        continue
                    if not (replace_links and st.st_uid != 0):
                        raise UnsafePath(
                            f"{here} is a symbolic link (to {os.readlink(name, dir_fd=fd)}) in a directory "
                            f"another user can write; the role does not follow it. Remove the link, or set "
                            f"the variable to the real path."
                        )
                    target = os.readlink(name, dir_fd=fd)
                    self.warnings.append(f"{here} was a symbolic link to {target}, planted by uid {st.st_uid}: "
                                         f"replaced by a directory, {target} left alone")
                    self.actions.append(f"replace the link {here} by a directory")
                    if self.check_mode:
                        os.close(fd)
                        return None
                    os.unlink(name, dir_fd=fd)
                    st = None
                if st is None:
                    if create is None:
                        raise FileNotFoundError(errno.ENOENT, "No such file or directory", here)
                    self.actions.append(f"create {here}")
                    if self.check_mode:
                        os.close(fd)
                        return None
                    try:
                        os.mkdir(name, 0o700, dir_fd=fd)
                    except FileExistsError:
                        # Made by a concurrent run since the stat: look at it again.
                        self.actions.pop()
                        parts.insert(0, name)
                        continue
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                    uid, gid, mode = create
                    os.fchown(child, uid, gid)
                    os.fchmod(child, mode)
                elif not stat.S_ISDIR(st.st_mode):
                    raise UnsafePath(f"{here} exists and is not a directory; move it away and run again")
                else:
                    try:
                        child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                    except OSError as exc:
                        if exc.errno == errno.ELOOP:
                            # Swapped for a link since the stat above: whoever did it can write here.
                            raise UnsafePath(f"{here} changed into a symbolic link while the role looked at it") from exc
                        raise
                os.close(fd)
                fd = child
                done.append(name)
                if trusted_only and not trusted(child_st := os.fstat(fd)):
                    raise UnsafePath(f"{here} (uid {child_st.st_uid}, mode {stat.S_IMODE(child_st.st_mode):04o}) is a "
                                     f"directory another user can write; the role writes files as root only where "
                                     f"nobody else can replace them")
            return fd
        except BaseException:
            os.close(fd)
            raise


def lstat_in_walk(path: str):
    """(stat of the object at ``path`` without following it, trusted parent?) or (None, ...) when
    it is missing; raises UnsafePath where the walk itself would have to follow an untrusted link."""
    parent, name = os.path.split(path.rstrip("/"))
    walker = Walker(check_mode=True)
    try:
        fd = walker.open_dir(parent)
    except FileNotFoundError:
        return None, True
    try:
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        return st, trusted(os.fstat(fd))
    finally:
        os.close(fd)


def ensure(path: str, kind: str, uid: int, gid: int, mode: int, walker: Walker) -> bool:
    """Make ``path`` a directory or an (empty when new) regular file owned by uid:gid with
    ``mode``; change only what differs. Missing parents are made like ``path``. Returns True
    when something changed (or would, in check mode)."""
    parent, name = os.path.split(path.rstrip("/"))
    before = len(walker.actions)
    if kind == "directory":
        fd = walker.open_dir(path, create=(uid, gid, mode), replace_links=True)
        if fd is None:
            return True
        try:
            return _fix(fd, path, uid, gid, mode, walker) or len(walker.actions) > before
        finally:
            os.close(fd)
    dir_fd = walker.open_dir(parent, create=(uid, gid, 0o750))
    if dir_fd is None:
        walker.actions.append(f"create {path}")
        return True
    try:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISLNK(st.st_mode) and not trusted(os.fstat(dir_fd)) and st.st_uid != 0:
            walker.warnings.append(f"{path} was a symbolic link planted by uid {st.st_uid}: replaced by a file")
            walker.actions.append(f"replace the link {path} by a file")
            if walker.check_mode:
                return True
            os.unlink(name, dir_fd=dir_fd)
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{path} exists and is not a regular file; move it away and run again")
        if st is None:
            walker.actions.append(f"create {path}")
            if walker.check_mode:
                return True
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
        else:
            # O_NONBLOCK: a FIFO swapped in since the stat must not hang the run.
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_nlink > 1 and not trusted(os.fstat(dir_fd))):
            os.close(fd)
            raise UnsafePath(f"{path} changed into something other than a plain file while the role looked at it")
        try:
            return _fix(fd, path, uid, gid, mode, walker) or len(walker.actions) > before
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)


def _fix(fd: int, path: str, uid: int, gid: int, mode: int, walker: Walker) -> bool:
    st = os.fstat(fd)
    changed = False
    if (st.st_uid, st.st_gid) != (uid, gid):
        walker.actions.append(f"chown {path}")
        changed = True
        if not walker.check_mode:
            os.fchown(fd, uid, gid)
    if stat.S_IMODE(st.st_mode) != mode:
        walker.actions.append(f"chmod {path} {mode:04o}")
        changed = True
        if not walker.check_mode:
            os.fchmod(fd, mode)
    return changed


def differs(path: str, kind: str, uid: int, gid: int, mode: int) -> bool:
    """True when ``ensure`` would change something (read-only)."""
    try:
        st, _trusted = lstat_in_walk(path)
    except (UnsafePath, OSError):
        return True
    if st is None:
        return True
    is_kind = stat.S_ISDIR if kind == "directory" else stat.S_ISREG
    return not is_kind(st.st_mode) or (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) != (uid, gid, mode)


def root_dir_fd(path: str, walker: Walker, create: bool = True) -> int | None:
    """A root-owned 0700 directory (made when missing, with ``create``) for the role's lock files
    and jobs; refuses one that anybody else owns or can write."""
    fd = walker.open_dir(path, create=(0, 0, 0o700) if create else None)
    if fd is None:
        return None
    st = os.fstat(fd)
    if st.st_uid != 0 or stat.S_IMODE(st.st_mode) & 0o077:
        os.close(fd)
        raise UnsafePath(f"{path} must be owned by root with mode 0700 (it holds the role's locks); "
                         f"it is uid {st.st_uid} mode {stat.S_IMODE(st.st_mode):04o}")
    return fd


def open_lock(dir_fd: int, name: str) -> int:
    """A lock file in the lock directory, opened without following a link."""
    return os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
