# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""The converged-host stamp: two lines in a root-only file of a root-only directory - the digest of
the controller's inputs, then the digest of those, the host reader's options and its answer -
read and written without following links."""

from __future__ import annotations

import os
import secrets
import stat

from ansible_collections.nbops.jupyter.plugins.module_utils import _safepath

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def read(path: str) -> tuple[str, str]:
    """(inputs, digest) the stamp holds; empty when there is none, or none that only root could have left."""
    directory, name = os.path.split(path)
    try:
        dir_fd = _safepath.root_dir_fd(directory, _safepath.Walker(), create=False)
    except (OSError, ValueError, _safepath.UnsafePath):
        # Missing, unsafe, or out of reach (no become, a name the checks refuse later): no stamp.
        return "", ""
    try:
        fd = os.open(name, _READ, dir_fd=dir_fd)
    except (OSError, ValueError):
        return "", ""
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _safepath.trusted(st):
            return "", ""
        lines = os.read(fd, 256).decode("ascii", "replace").split()
    finally:
        os.close(fd)
    return (lines[0], lines[1]) if len(lines) == 2 else ("", "")


def write(path: str, inputs: str, digest: str) -> None:
    directory, name = os.path.split(path)
    dir_fd = _safepath.root_dir_fd(directory, _safepath.Walker(), create=True)
    try:
        part = f".{name}.{secrets.token_hex(8)}"
        fd = os.open(part, _WRITE, 0o600, dir_fd=dir_fd)
        try:
            os.write(fd, f"{inputs}\n{digest}\n".encode("ascii"))
        finally:
            os.close(fd)
        os.replace(part, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
