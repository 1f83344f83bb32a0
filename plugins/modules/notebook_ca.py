#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_ca
short_description: Check or make a private certificate authority with openssl, on the controller
version_added: 0.3.0
author: nbops.jupyter contributors (@nbops)
description:
  - Meant to run on the controller (C(delegate_to) set to C(localhost)), once per play.
  - When O(cert) and O(key) both exist, checks them, and changes nothing. The certificate must be
    one CA certificate (C(CA:TRUE), C(keyCertSign)), not expiring within a day; the key must be
    readable by its owner only, open with O(passphrase) and match the certificate.
  - When both are missing, makes an ECDSA P-256 or RSA key (encrypted with AES-256 when
    O(passphrase) is given) and a self-signed CA certificate, optionally with X.509 name
    constraints. Two plays that do this at once make one CA (a lock beside the key).
  - When only one of them exists, fails; it never replaces half of a CA.
  - The passphrase reaches openssl through a pipe, never through its arguments.
options:
  cert:
    description: The CA certificate (PEM). Its directory is made C(0700) when missing.
    type: path
    required: true
  key:
    description: The CA key (PEM), made C(0600).
    type: path
    required: true
  passphrase:
    description: The key's passphrase; empty for an unencrypted key.
    type: str
    default: ""
  key_type:
    description: The key made for a new CA.
    type: str
    choices: [ecdsa, rsa]
    default: ecdsa
  rsa_bits:
    description: RSA key size for a new CA, at least 3072.
    type: int
    default: 3072
  common_name:
    description: The subject of a new CA.
    type: str
    default: nbops.jupyter private CA
  valid_days:
    description: Validity of a new CA.
    type: int
    default: 3650
  name_constraints:
    description:
      - Permitted subtrees of a new CA, V(DNS:example.org) (the domain and its subdomains),
        V(DNS:.example.org) (subdomains only) or V(IP:10.0.0.0/8) (also IPv6 networks).
    type: list
    elements: str
    default: []
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
requirements:
  - the openssl CLI
seealso:
  - module: nbops.jupyter.notebook_ca_sign
  - module: nbops.jupyter.notebook_certificate
"""

EXAMPLES = r"""
- name: Make or check the fleet's CA
  nbops.jupyter.notebook_ca:
    cert: "{{ playbook_dir }}/notebook-ca/ca.pem"
    key: "{{ playbook_dir }}/notebook-ca/ca.key"
    passphrase: "{{ vault_ca_passphrase }}"
    name_constraints: [DNS:lab.example.org, DNS:localhost, IP:127.0.0.1/32, IP:::1/128]
  delegate_to: localhost
  become: false
  run_once: true
  register: ca
"""

RETURN = r"""
cert:
  description: The CA certificate's path.
  returned: always
  type: str
fingerprint_sha256:
  description: The CA certificate's SHA-256 fingerprint (empty in check mode when one would be made).
  returned: always
  type: str
  sample: "AB:CD:..."
subject:
  description: The CA's subject (RFC 2253).
  returned: when the CA exists
  type: str
not_after:
  description: The CA's expiry, as openssl prints it.
  returned: when the CA exists
  type: str
name_constraints:
  description: The CA's permitted subtrees, as O(name_constraints) writes them.
  returned: when the CA exists
  type: list
  elements: str
pem:
  description: The CA certificate.
  returned: when the CA exists
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _ca


def main():
    module = AnsibleModule(
        argument_spec={
            "cert": {"type": "path", "required": True},
            "key": {"type": "path", "required": True},
            "passphrase": {"type": "str", "default": "", "no_log": True},
            "key_type": {"type": "str", "choices": ["ecdsa", "rsa"], "default": "ecdsa"},
            "rsa_bits": {"type": "int", "default": 3072},
            "common_name": {"type": "str", "default": "nbops.jupyter private CA"},
            "valid_days": {"type": "int", "default": 3650},
            "name_constraints": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    if p["rsa_bits"] < 3072:
        module.fail_json(msg=f"notebook_tls_ca_rsa_bits: {p['rsa_bits']} is below 3072")
    try:
        made, ca = _ca.ensure(p["cert"], p["key"], p["passphrase"] or None, key_type=p["key_type"],
                              rsa_bits=p["rsa_bits"], common_name=p["common_name"], days=p["valid_days"],
                              name_constraints=p["name_constraints"], check_mode=module.check_mode)
    except (_ca.CAError, OSError, RuntimeError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=made, cert=p["cert"], fingerprint_sha256=ca.get("fingerprint_sha256", ""),
                     **{k: ca[k] for k in ("subject", "not_after", "name_constraints", "pem") if k in ca})


if __name__ == "__main__":
    main()
