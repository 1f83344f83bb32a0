# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: passwd_check
short_description: Tell whether a password matches a Jupyter password hash
version_added: 0.1.0
author: nbops.jupyter contributors
description:
  - Accepts every format Jupyter's C(passwd_check) accepts, C(argon2:) PHC strings of any argon2
    type and legacy C(algorithm:salt:hexdigest).
  - Unlike Jupyter, a malformed hash is an error, not C(false), so a damaged vaulted hash stops the
    play instead of locking users out.
  - The role uses it to keep the hash already on a host while it still matches the password.
positional: password
options:
  _input:
    description: The hash.
    type: string
    required: true
  password:
    description: The plaintext password to check.
    type: string
    required: true
requirements:
  - passlib (libpass) and argon2-cffi on the controller, for C(argon2) hashes
"""

EXAMPLES = r"""
- name: Keep the deployed hash while it still matches
  ansible.builtin.set_fact:
    notebook_hash: >-
      {{ deployed_hash if (deployed_hash | nbops.jupyter.passwd_check(vault_notebook_password))
         else (vault_notebook_password | nbops.jupyter.passwd) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: C(true) when the password matches the hash.
  type: boolean
"""

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def passwd_check(hashed: object, password: object) -> bool:
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils._passwd import check_password

    return filter_call("passwd_check", check_password, hashed, password)


class FilterModule:
    def filters(self):
        return {"passwd_check": passwd_check}
