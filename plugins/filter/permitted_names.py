# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: permitted_names
short_description: The certificate names a CA's name constraints permit
version_added: 0.3.0
author: nbops.jupyter contributors
description:
  - Keeps the DNS names and IP addresses of the input that X.509 name constraints permit, as
    RFC 5280 reads them - a domain permits itself and its subdomains, C(.example.org) only its
    subdomains, a network its addresses, and a kind of name with no constraint is not constrained.
  - The role leaves the host's default names that a private CA may not sign (its short name,
    C(localhost)) out of the certificate this way.
options:
  _input:
    description: DNS names and IP addresses.
    type: list
    elements: string
    required: true
  constraints:
    description: Permitted subtrees, V(DNS:example.org), V(DNS:.example.org), V(IP:10.0.0.0/8); empty permits all.
    type: list
    elements: string
    required: true
"""

EXAMPLES = r"""
- name: Names a CA limited to lab.example.org may sign
  ansible.builtin.debug:
    msg: "{{ ['nb1.lab.example.org', 'nb1', '127.0.0.1'] | nbops.jupyter.permitted_names(['DNS:lab.example.org']) }}"
    # ['nb1.lab.example.org', '127.0.0.1']
"""

RETURN = r"""
_value:
  description: The permitted entries of the input, in its order.
  type: list
  elements: string
"""

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def _permitted(names, constraints):
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils._ca import parse_constraints, permitted
    from ansible_collections.nbops.jupyter.plugins.module_utils._san import entries_from_names

    parsed = parse_constraints(list(constraints))
    return [name for name in names if permitted(entries_from_names([name])[0], parsed)]


def permitted_names(names: object, constraints: object) -> list:
    return filter_call("permitted_names", _permitted, names, constraints)


class FilterModule:
    def filters(self):
        return {"permitted_names": permitted_names}
