#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_paths
short_description: Make the Jupyter server's directories and marker files without following links
version_added: 0.2.0
author: nbops.jupyter contributors (@nbops)
description:
  - Makes each path a directory or a regular file with the given owner, group and mode, and
    changes only what differs. Missing parent directories are made like the path.
  - Paths are walked one component at a time through file descriptors, and owner and mode are set
    on the descriptor of the object itself, so a user who can write a directory on the way (the
    server's account owns its home and notebooks directory, and its kernels run arbitrary code)
    cannot redirect root to another file, however it times its changes.
  - A symbolic link is followed only in a directory that only root can write. A link planted in any
    other directory, where a managed directory belongs, is removed and the directory made again,
    leaving the link's target untouched (reported as a warning). Anything else in the way is an
    error naming the path, and nothing else changes.
options:
  paths:
    description: The paths to make, each with C(path), C(owner), C(group), C(mode) (octal string) and C(state).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path, without C(.) or C(..) components.
        type: path
        required: true
      owner:
        description: User name of the owner.
        type: str
        required: true
      group:
        description: Group name.
        type: str
        required: true
      mode:
        description: Mode as an octal string such as C("0750").
        type: str
        required: true
      state:
        description: V(directory), or V(file) for an empty marker file (an existing one keeps its content).
        type: str
        choices: [directory, file]
        default: directory
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: nbops.jupyter.notebook_host_info
"""

EXAMPLES = r"""
- name: Make the server's directories
  nbops.jupyter.notebook_paths:
    paths:
      - {path: /etc/jupyter-notebook, owner: root, group: jupyter, mode: "0750"}
      - {path: /etc/jupyter-notebook/migrated, owner: root, group: jupyter, mode: "0640", state: file}
      - {path: /var/lib/jupyter-notebook/notebooks, owner: jupyter, group: jupyter, mode: "0750"}
"""

RETURN = r"""
actions:
  description: What was changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [create /var/lib/jupyter-notebook/notebooks]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _safepath


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {
                "type": "list", "elements": "dict", "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "owner": {"type": "str", "required": True},
                    "group": {"type": "str", "required": True},
                    "mode": {"type": "str", "required": True},
                    "state": {"type": "str", "choices": ["directory", "file"], "default": "directory"},
                },
            },
        },
        supports_check_mode=True,
    )
    walker = _safepath.Walker(check_mode=module.check_mode)
    changed = False
    try:
        for item in module.params["paths"]:
            mode = _safepath.parse_mode(item["mode"], item["path"])
            uid, gid = _safepath.account_ids(item["path"], item["owner"], item["group"], module.check_mode)
            changed |= _safepath.ensure(item["path"].rstrip("/") or "/", item["state"], uid, gid, mode, walker)
    except (_safepath.UnsafePath, OSError) as exc:
        module.fail_json(msg=str(exc), actions=walker.actions)
    for warning in walker.warnings:
        module.warn(warning)
    module.exit_json(changed=changed, actions=walker.actions)


if __name__ == "__main__":
    main()
