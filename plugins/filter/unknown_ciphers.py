# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: unknown_ciphers
short_description: The TLS 1.2 cipher names in a list that OpenSSL doesn't know
version_added: 0.2.0
author: nbops.jupyter contributors
description:
  - Checks each entry on its own with the controller's OpenSSL (through Python's C(ssl)), because
    OpenSSL accepts a whole cipher list as long as one entry matches, and drops a misspelt one
    silently - or, when none matches, makes every handshake fail.
  - An entry must be exactly one cipher's OpenSSL name, such as C(ECDHE-ECDSA-AES128-GCM-SHA256);
    aliases (C(HIGH)), lists and TLS 1.3 suite names (which are fixed) are reported.
options:
  _input:
    description: Cipher names.
    type: list
    elements: string
    required: true
"""

EXAMPLES = r"""
- name: Refuse a typo before it reaches a server
  ansible.builtin.assert:
    that: (notebook_tls_ciphers | nbops.jupyter.unknown_ciphers) | length == 0
"""

RETURN = r"""
_value:
  description: The entries that are not one known cipher, in the order given; empty when all are.
  type: list
  elements: string
"""

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def unknown_ciphers(names: object) -> list:
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils._ciphers import unknown_ciphers as _unknown

    return filter_call("unknown_ciphers", _unknown, names)


class FilterModule:
    def filters(self):
        return {"unknown_ciphers": unknown_ciphers}
