# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: passwd_info
short_description: Parse a Jupyter password hash and tell whether Jupyter can use it
version_added: 0.2.0
author: nbops.jupyter contributors
description:
  - Parses a stored hash the way P(nbops.jupyter.passwd_check#filter) reads it, without a password,
    so a damaged vaulted hash is found before it reaches a host (where Jupyter would reject every
    password).
  - Whitespace around the hash (the newline C(echo ... | ansible-vault encrypt_string) adds) is a problem.
  - The problem text never quotes the hash.
options:
  _input:
    description: The hash.
    type: raw
    required: true
requirements:
  - passlib (libpass) and argon2-cffi on the controller, for C(argon2) hashes
"""

EXAMPLES = r"""
- name: Refuse a damaged hash before anything changes
  ansible.builtin.assert:
    that: (vault_hash | nbops.jupyter.passwd_info).valid
    fail_msg: "notebook_password_hash: {{ (vault_hash | nbops.jupyter.passwd_info).problem }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: C(valid) (bool), C(algorithm) (C(argon2), C(sha1), ...), C(problem) (empty when valid).
  type: dict
"""

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def passwd_info(hashed: object) -> dict:
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils._passwd import describe_hash

    return filter_call("passwd_info", describe_hash, hashed)


class FilterModule:
    def filters(self):
        return {"passwd_info": passwd_info}
