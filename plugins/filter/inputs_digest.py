# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: inputs_digest
short_description: One digest of everything on the controller that decides what the notebook role does
version_added: 0.4.0
author: nbops.jupyter contributors
description:
  - SHA-256 over the input values (as canonical JSON), the controller files they name, this
    collection's own role and plugin files (so that a new release of the collection never matches
    a digest an older one left), and the controller's Python and Jinja2 versions.
  - A file counts with its contents; a directory (a wheelhouse, a directory of locks) with the
    name, size and modification time of every file under it; a missing path as missing.
  - The C(nbops.jupyter.notebook) role gives it to P(nbops.jupyter.notebook_host_info#module),
    which adds the host's state; equal digests mean a run that changed nothing found the same.
  - Leave secrets out of the values - the digest lands on the host, and a digest of a short
    secret is a way to check guesses of it.
options:
  _input:
    description: The values, a dict that JSON can hold.
    type: dict
    required: true
  files:
    description: Controller paths whose contents (or listing) count; empty entries are left out.
    type: list
    elements: path
    default: []
  read:
    description:
      - Controller directories whose files count with their contents, not only their names, sizes and
        modification times (small files whose contents decide, such as locks); empty entries are left out.
    type: list
    elements: path
    default: []
    version_added: 0.4.0
"""

EXAMPLES = r"""
- name: Digest what decides the role
  ansible.builtin.set_fact:
    inputs: "{{ {'port': 8888} | nbops.jupyter.inputs_digest(files=['files/cert.pem']) }}"
"""

RETURN = r"""
_value:
  description: The hex SHA-256.
  type: string
"""

import hashlib
import json
import os
import sys
from functools import lru_cache

import jinja2

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call

# plugins/filter/inputs_digest.py -> the collection's root
_COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What of the collection decides what the role does on a host.
_OWN = ("roles", "plugins", "meta")


def _passlib_version() -> str:
    try:
        import passlib  # pylint: disable=import-outside-toplevel
    except ImportError:
        return ""
    return getattr(passlib, "__version__", "")


def _walk(root: str):
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield os.path.join(top, name)


@lru_cache(maxsize=1)
def _collection_digest() -> str:
    # Read once per process: a release's files don't change under a run.
    digest = hashlib.sha256()
    for part in _OWN:
        for path in _walk(os.path.join(_COLLECTION, part)):
            digest.update(os.path.relpath(path, _COLLECTION).encode() + b"\0")
            with open(path, "rb") as fh:
                digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()


def _path_digest(path: str, contents: bool = False) -> str:
    try:
        return _readable_path_digest(path, contents)
    except OSError as exc:
        # The checks after this one name the variable and say what is wrong with the file.
        return f"unreadable {exc.errno}"


def _readable_path_digest(path: str, contents: bool) -> str:
    if os.path.isdir(path):
        entries = []
        for name in _walk(path):
            st = os.stat(name)
            entries.append([os.path.relpath(name, path), st.st_size, st.st_mtime_ns] + ([_file_sha256(name)] if contents else []))
        return "dir " + hashlib.sha256(json.dumps(entries).encode()).hexdigest()
    if os.path.isfile(path):
        return "file " + _file_sha256(path)
    return "missing"


def _file_sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _digest(values, files, read=()) -> str:
    if not isinstance(values, dict):
        raise TypeError("the input must be a dict")
    if not isinstance(files, (list, tuple)) or not isinstance(read, (list, tuple)):
        raise TypeError("files and read must be lists of paths")
    import ssl  # pylint: disable=import-outside-toplevel  # on use, as the other filters' helpers

    document = {
        "values": values,
        # The templates render the same only with the same engine; the cipher and hash checks
        # depend on the controller's OpenSSL and passlib.
        "controller": [sys.version, jinja2.__version__, ssl.OPENSSL_VERSION, _passlib_version()],
        "files": {str(path): _path_digest(os.path.expanduser(str(path))) for path in files if path},
        "read": {str(path): _path_digest(os.path.expanduser(str(path)), contents=True) for path in read if path},
        "collection": _collection_digest(),
    }
    # sort_keys: dict order never counts; other types than JSON's by their type and text.
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=_typed).encode()).hexdigest()


def _typed(value) -> list:
    return [type(value).__name__, str(value)]


def inputs_digest(values: object, files: object = (), read: object = ()) -> str:
    return filter_call("inputs_digest", _digest, values, files, read)


class FilterModule:
    def filters(self):
        return {"inputs_digest": inputs_digest}
