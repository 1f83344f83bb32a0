# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: subject_alt_names
short_description: subjectAltName entries in a normal form, from names or from openssl's output
version_added: 0.1.0
author: nbops.jupyter contributors
description:
  - Turns a list of host names and addresses, or the text printed by
    C(openssl x509 -noout -ext subjectAltName), into a sorted list of C(DNS:name) and C(IP:address)
    entries, so that the names a certificate should carry and the names it carries compare equal.
  - DNS names are lowercased; IP addresses are written as Python's C(ipaddress) writes them
    (IPv6 compressed), whatever form openssl printed.
positional: source
options:
  _input:
    description: A list of names and addresses, or openssl's text output.
    type: raw
    required: true
  source:
    description: C(names) for a list, C(openssl) for openssl's output.
    type: string
    default: names
    choices: [names, openssl]
"""

EXAMPLES = r"""
- name: Names the certificate should carry
  ansible.builtin.debug:
    msg: "{{ ['Host.Example.org', '127.0.0.1', '::1'] | nbops.jupyter.subject_alt_names }}"
  # => ['DNS:host.example.org', 'IP:127.0.0.1', 'IP:::1']

- name: Names it carries
  ansible.builtin.debug:
    msg: "{{ probe.stdout | nbops.jupyter.subject_alt_names('openssl') }}"
"""

RETURN = r"""
_value:
  description: Sorted, de-duplicated entries such as C(DNS:localhost) and C(IP:127.0.0.1).
  type: list
  elements: string
"""

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def subject_alt_names(value: object, source: str = "names") -> list:
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils._san import entries_from_names, entries_from_openssl

    if source == "openssl":
        return filter_call("subject_alt_names", entries_from_openssl, value)
    if source == "names":
        return filter_call("subject_alt_names", entries_from_names, value)
    return filter_call("subject_alt_names", _bad_source, source)


def _bad_source(source):
    raise ValueError(f"source must be 'names' or 'openssl', got {source!r}")


class FilterModule:
    def filters(self):
        return {"subject_alt_names": subject_alt_names}
