#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_ca_sign
short_description: Sign the hosts' certificate requests with a private CA, on the controller
version_added: 0.3.0
author: nbops.jupyter contributors (@nbops)
description:
  - Meant to run on the controller (C(delegate_to) set to C(localhost)) once for a play's hosts, with the
    requests that P(nbops.jupyter.notebook_certificate#module) made on them (O(requests)).
  - Each certificate carries the names given here, not the ones a request asks for, as
    subjectAltNames, with C(serverAuth), C(CA:FALSE) and a critical keyUsage. Names outside the
    CA's name constraints are refused before anything is signed.
  - Serials are random (127 bits); there is no serial file or index, so plays may sign at once.
  - Validity is O(valid_days), cut to the CA's own expiry.
  - The chain returned for a host is its certificate followed by the CA's.
options:
  cert:
    description: The CA certificate, checked as P(nbops.jupyter.notebook_ca#module) checks it.
    type: path
    required: true
  key:
    description: The CA key.
    type: path
    required: true
  passphrase:
    description: The key's passphrase; empty for an unencrypted key.
    type: str
    default: ""
  requests:
    description: One entry per host.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The host (the key of RV(certificates)).
        type: str
        required: true
      csr:
        description: The host's PEM certificate signing request.
        type: str
        required: true
      names:
        description: DNS names and IP addresses of the certificate.
        type: list
        elements: str
        required: true
      common_name:
        description: The certificate's subject CN (cut to 64 characters).
        type: str
        required: true
  valid_days:
    description: Validity in days.
    type: int
    default: 200
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: none
  diff_mode:
    support: none
requirements:
  - the openssl CLI
seealso:
  - module: nbops.jupyter.notebook_ca
"""

EXAMPLES = r"""
- name: Sign the requests of this play's hosts
  nbops.jupyter.notebook_ca_sign:
    cert: "{{ playbook_dir }}/notebook-ca/ca.pem"
    key: "{{ playbook_dir }}/notebook-ca/ca.key"
    requests:
      - name: nb1
        csr: "{{ hostvars['nb1'].request.csr }}"
        names: [nb1.example.org, nb1, localhost, 127.0.0.1, "::1"]
        common_name: nb1.example.org
  delegate_to: localhost
  become: false
  run_once: true
  register: signed
"""

RETURN = r"""
certificates:
  description: For each request's O(requests[].name), the chain to serve (PEM, leaf first).
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _ca


def main():
    module = AnsibleModule(
        argument_spec={
            "cert": {"type": "path", "required": True},
            "key": {"type": "path", "required": True},
            "passphrase": {"type": "str", "default": "", "no_log": True},
            "requests": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "csr": {"type": "str", "required": True},
                "names": {"type": "list", "elements": "str", "required": True},
                "common_name": {"type": "str", "required": True},
            }},
            "valid_days": {"type": "int", "default": 200},
        },
        supports_check_mode=False,
    )
    p = module.params
    passphrase = p["passphrase"] or None
    try:
        ca = _ca.inspect(p["cert"], p["key"], passphrase)
        # Every request is checked and signed before any answer is given: one bad host's names
        # leave every host with the certificate it serves now.
        certificates = {}
        for r in p["requests"]:
            try:
                certificates[r["name"]] = _ca.sign(ca, p["key"], passphrase, r["csr"], r["names"], r["common_name"],
                                                   p["valid_days"])
            except (_ca.CAError, RuntimeError) as exc:
                raise _ca.CAError(f"{r['name']}: {exc}") from None
    except (_ca.CAError, OSError, RuntimeError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(certificates), certificates=certificates)


if __name__ == "__main__":
    main()
