# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: passwd
short_description: Hash a password the way Jupyter's C(passwd()) does
version_added: 0.1.0
author: nbops.jupyter contributors
description:
  - Returns a hash that Jupyter Server and Notebook accept in C(PasswordIdentityProvider.hashed_password)
    (Notebook 7) or C(NotebookApp.password) (Notebook 6.1+).
  - The default is C(argon2:) followed by an argon2id PHC string made with Jupyter's own parameters
    (memory_cost=10240, time_cost=10, parallelism=8).
  - Legacy hashes C(algorithm:salt:hexdigest) are what Notebook before 6.1 reads.
  - Runs on the controller, like every filter, so the plaintext never reaches the managed host.
  - Each call draws a new random salt unless O(salt) is given; to keep converges idempotent compare
    the hash already deployed with P(nbops.jupyter.passwd_check#filter) instead of hashing again.
positional: algorithm, salt
options:
  _input:
    description: The password, a non-empty string.
    type: string
    required: true
  algorithm:
    description:
      - C(argon2), or a C(hashlib) algorithm for the legacy format such as C(sha1) or C(sha256).
    type: string
    default: argon2
  salt:
    description:
      - Makes the output deterministic.
      - For C(argon2) at least 16 bytes of text; for legacy algorithms exactly 12 lowercase hex
        characters, as Jupyter makes them.
    type: string
requirements:
  - passlib (libpass) and argon2-cffi on the controller, for C(argon2)
"""

EXAMPLES = r"""
- name: Hash the notebook password on the controller
  ansible.builtin.set_fact:
    notebook_hash: "{{ vault_notebook_password | nbops.jupyter.passwd }}"
  no_log: true

- name: A legacy hash for Notebook < 6.1, with a fixed salt
  ansible.builtin.debug:
    msg: "{{ 'mypassword' | nbops.jupyter.passwd('sha1', '0e112c3ddfce') }}"
  # => sha1:0e112c3ddfce:a68df677475c2b47b6e86d0467eec97ac5f4b85a
"""

RETURN = r"""
_value:
  description: The hash, for example C(argon2:$argon2id$v=19$m=10240,t=10,p=8$...).
  type: string
"""


from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def passwd(password: object, algorithm: object = "argon2", salt: object = None) -> str:
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils._passwd import hash_password

    return filter_call("passwd", hash_password, password, algorithm, salt)


class FilterModule:
    def filters(self):
        return {"passwd": passwd}
