# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: lock_plan
short_description: What one host installs from a lock directory and a wheelhouse on the controller
version_added: 0.4.0
author: nbops.jupyter contributors
description:
  - Reads the lock of each venv (C(<lock_dir>/<key>.txt), as C(playbooks/lock.yml) writes it with
    C(uv pip compile --generate-hashes)) and, with O(installer=uv), C(<lock_dir>/uv.txt), the uv
    release that installs.
  - Keeps the entries whose environment markers apply to the host (its CPython version and CPU),
    checks that they satisfy the venv's requirements, and with a wheelhouse finds each one's
    wheels there and checks their sha256 against the lock.
  - Every problem is an error naming the package and the variable, before anything reaches a host.
options:
  _input:
    description: The lock directory (notebook_lock_dir).
    type: path
    required: true
  venvs:
    description: Per venv, C(key) (the lock file's name without C(.txt)) and C(requirements).
    type: list
    elements: dict
    required: true
  python_version:
    description: The host's Python, x.y.z.
    type: str
    required: true
  machine:
    description: The host's CPU, such as V(x86_64).
    type: str
    required: true
  wheelhouse:
    description: The wheelhouse directory (notebook_wheelhouse); empty for none.
    type: path
    default: ""
  installer:
    description: V(uv) also reads C(uv.txt).
    type: str
    default: uv
  glibc:
    description:
      - The host's glibc (such as V(2.36)), to tell which locked packages the wheelhouse still lacks
        for it; each venv's C(missing) in the result then holds them as a requirements file (what
        C(playbooks/lock.yml) downloads). A lacking wheel is no error then.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Read the locks for this host
  ansible.builtin.set_fact:
    plan: >-
      {{ 'locks' | nbops.jupyter.lock_plan([{'key': 'server', 'requirements': ['notebook']}],
                                           ansible_facts['python']['version'] | join('.'), 'x86_64', 'wheels') }}
"""

RETURN = r"""
_value:
  description:
    - C(venvs) - per key, C(pins) (name==version), C(lock) (the requirements file to install, with hashes) and,
      with O(glibc), C(missing) (the entries the wheelhouse lacks, as such a file);
      C(uv_version); C(wheels) - per distribution, its C(candidates) (C(filename), C(sha256)), best first.
  type: dict
"""

import os

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def _read(lock_dir: str, key: str) -> tuple[str, str]:
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils import _lock

    path = os.path.join(lock_dir, key + ".txt")
    try:
        with open(path, encoding="utf-8") as fh:
            return path, fh.read()
    except OSError as exc:
        raise _lock.LockError(f"notebook_lock_dir: no lock {path} ({exc.strerror}); make it with playbooks/lock.yml") from None


def _plan(lock_dir, venvs, python_version, machine, wheelhouse="", installer="uv", glibc=""):
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils import _lock

    env = _lock.environment(str(python_version), str(machine))
    files = sorted(os.listdir(wheelhouse)) if wheelhouse and os.path.isdir(wheelhouse) else []
    plan = {"venvs": {}, "uv_version": "", "wheels": []}
    seen = set()
    glibc_minor = int(str(glibc).split(".")[1]) if glibc else 99

    def add_wheels(entries, source):
        wheels = _lock.wheels_for(entries, wheelhouse, env, source, files, glibc_minor, missing_ok=bool(glibc))
        for wheel in wheels:
            if wheel["candidates"] and wheel["candidates"][0]["filename"] not in seen:
                seen.add(wheel["candidates"][0]["filename"])
                plan["wheels"].append(wheel)
        return [entry for entry, wheel in zip(entries, wheels) if not wheel["candidates"]]

    for venv in venvs:
        path, text = _read(lock_dir, venv["key"])
        entries = _lock.applying(_lock.parse(text, path), env)
        stale = _lock.unmet(entries, list(venv["requirements"]), env)
        if stale:
            raise _lock.LockError(f"notebook_lock_dir: {path} does not satisfy {', '.join(stale)}; it was made for "
                                  "other packages or versions: make it again with playbooks/lock.yml")
        plan["venvs"][venv["key"]] = {"pins": [f"{e['name']}=={e['version']}" for e in entries],
                                      "lock": _lock.render(entries)}
        if wheelhouse:
            plan["venvs"][venv["key"]]["missing"] = _lock.render(add_wheels(entries, path))
    if installer == "uv":
        path, text = _read(lock_dir, "uv")
        entries = [e for e in _lock.applying(_lock.parse(text, path), env) if e["name"] == "uv"]
        if len(entries) != 1:
            raise _lock.LockError(f"notebook_lock_dir: {path} must pin uv (uv==x.y.z with hashes)")
        plan["uv_version"] = entries[0]["version"]
        if wheelhouse:
            add_wheels(entries, path)
    return plan


def lock_plan(lock_dir, venvs, python_version, machine, wheelhouse="", installer="uv", glibc=""):
    return filter_call("lock_plan", _plan, lock_dir, venvs, python_version, machine, wheelhouse, installer, glibc)


class FilterModule:
    def filters(self):
        return {"lock_plan": lock_plan}
