#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_wheels
short_description: Say which wheels of a lock a host's wheel cache lacks
version_added: 0.4.0
author: nbops.jupyter contributors (@nbops)
description:
  - Makes the host's wheel cache (root-owned, C(0755), its parents too) when it is missing, picks
    for each distribution the first candidate wheel whose manylinux tag this host's glibc and CPU
    run, and reports the ones the cache lacks, so that only those are copied from the controller.
  - A cached wheel counts only when it is a regular file owned by root that nobody else can write,
    with the sha256 the lock lists; any other file of that name is removed (the copy replaces it).
    Nothing the server's account can write steers what root installs.
  - Touches no network.
options:
  path:
    description: The wheel cache on the host.
    type: path
    required: true
  wheels:
    description:
      - Per distribution, C(name) and C(candidates), a list of C(filename) and C(sha256), best first
        (what the P(nbops.jupyter.lock_plan#filter) filter returns).
    type: list
    elements: dict
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what it would make or remove; makes and removes nothing.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
seealso:
  - module: nbops.jupyter.notebook_venv
"""

EXAMPLES = r"""
- name: Find the wheels the host lacks
  nbops.jupyter.notebook_wheels:
    path: /var/cache/nbops-jupyter/wheels
    wheels: "{{ plan.wheels }}"
  register: cache
"""

RETURN = r"""
selected:
  description: The wheel picked for each distribution, in the order given.
  returned: always
  type: list
  elements: str
missing:
  description: The picked wheels the cache lacks (or had wrong), to copy.
  returned: always
  type: list
  elements: str
"""

import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _safepath, _uv
from ansible_collections.nbops.jupyter.plugins.module_utils._digest import sha256_of


def fits(filename: str, arch: str, glibc: tuple[int, int]) -> bool:
    """The wheel's platform tag runs here: any, or manylinux for this CPU and at most this glibc."""
    platform_tags = filename[:-len(".whl")].split("-")[-1].split(".")
    for tag in platform_tags:
        if tag == "any" or tag == f"linux_{arch}":
            return True
        legacy = re.fullmatch(r"(manylinux\d+)_" + re.escape(arch), tag)
        modern = re.fullmatch(r"manylinux_(\d+)_(\d+)_" + re.escape(arch), tag)
        needs = _uv.LEGACY.get(legacy.group(1)) if legacy else (int(modern.group(1)), int(modern.group(2))) if modern else None
        if needs and needs <= glibc:
            return True
    return False


def cached(dir_fd: int, filename: str, sha256: str) -> bool | None:
    """True: in place and sound. False: absent. None: there but not to be trusted (remove it)."""
    try:
        st = os.stat(filename, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    fd = os.open(filename, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        return True if sha256_of(fh) == sha256 else None


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "wheels": {"type": "list", "elements": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    path = module.params["path"].rstrip("/")
    try:
        arch, glibc = _uv.platform_tags()
    except _uv.UvError as exc:
        module.fail_json(msg=f"notebook_wheelhouse: {exc}")
    selected = []
    for wheel in module.params["wheels"]:
        picked = [c for c in wheel.get("candidates", []) if fits(c["filename"], arch, glibc)]
        if not picked:
            names = ", ".join(c["filename"] for c in wheel.get("candidates", []))
            module.fail_json(msg=f"notebook_wheelhouse has no wheel of {wheel.get('name')} {wheel.get('version', '')} "
                                 f"that runs on this host ({arch}, glibc {glibc[0]}.{glibc[1]}), only {names}; fill it "
                                 "with playbooks/lock.yml for this host")
        selected.append(picked[0])

    walker = _safepath.Walker(check_mode=module.check_mode)
    changed = False
    try:
        dir_fd = walker.open_dir(path, create=(0, 0, 0o755))
        if dir_fd is None:
            module.exit_json(changed=True, selected=[w["filename"] for w in selected],
                             missing=[w["filename"] for w in selected], actions=walker.actions)
        try:
            if not _safepath.trusted(os.fstat(dir_fd)):
                module.fail_json(msg=f"{path} (the host's wheel cache) can be written by others than root")
            missing = []
            for wheel in selected:
                found = cached(dir_fd, wheel["filename"], wheel["sha256"])
                if found is None:
                    walker.actions.append(f"remove {wheel['filename']} (not root's, or not the locked file)")
                    if not module.check_mode:
                        os.unlink(wheel["filename"], dir_fd=dir_fd)
                    changed = True
                if not found:
                    missing.append(wheel["filename"])
        finally:
            os.close(dir_fd)
    except (_safepath.UnsafePath, OSError) as exc:
        module.fail_json(msg=f"the host's wheel cache {path}: {exc}")
    module.exit_json(changed=changed or bool(walker.actions), selected=[w["filename"] for w in selected],
                     missing=missing, actions=walker.actions)


if __name__ == "__main__":
    main()
