# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""The converged-host stamp: what the last run seen to change nothing had, as JSON in a root-only
file of a root-only directory, read and written without following links. Its record: the digest
of the controller's inputs (``inputs``), the role's facts of the host (``facts``), the host
reader's options (``options``) and the digest of all of those and of what the reader found
(``digest``). With the options in it, a later run on a host whose facts are these reads the host
as that run did in its first call, before the controller has worked out any option (or its
inputs' digest, which may need the facts) itself.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import json
import os
import secrets
import stat

from ansible_collections.nbops.jupyter.plugins.module_utils import _safepath

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# A record is a few kilobytes; anything past this is not one the role wrote.
MAX = 1 << 20
_KEYS = ("inputs", "facts", "options", "digest")


def read(path: str) -> dict:
    """The record the stamp holds; empty when there is none, or none that only root could have left."""
    directory, name = os.path.split(path)
    try:
        dir_fd = _safepath.root_dir_fd(directory, _safepath.Walker(), create=False)
    except (OSError, ValueError, _safepath.UnsafePath):
        # Missing, unsafe, or out of reach (no become, a name the checks refuse later): no stamp.
        return {}
    try:
        fd = os.open(name, _READ, dir_fd=dir_fd)
    except (OSError, ValueError):
        return {}
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _safepath.trusted(st) or st.st_size > MAX:
            return {}
        data = b""
        while len(data) <= MAX:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        record = json.loads(data)
    except ValueError:
        # A stamp of an earlier release (two lines of digests) is no record: the next run is a whole one.
        return {}
    if not isinstance(record, dict) or any(key not in record for key in _KEYS):
        return {}
    return record


def write(path: str, record: dict) -> bool:
    """Write the record (False, and nothing written, when it is over MAX bytes)."""
    data = memoryview(json.dumps({key: record[key] for key in _KEYS}, sort_keys=True).encode("utf-8"))
    if len(data) > MAX:
        return False
    directory, name = os.path.split(path)
    dir_fd = _safepath.root_dir_fd(directory, _safepath.Walker(), create=True)
    try:
        part = f".{name}.{secrets.token_hex(8)}"
        fd = os.open(part, _WRITE, 0o600, dir_fd=dir_fd)
        try:
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        os.replace(part, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    return True
