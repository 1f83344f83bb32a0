#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_client_certificates
short_description: Issue and revoke the device certificates a Jupyter server asks for (mutual TLS), on the controller
version_added: 0.3.0
author: nbops.jupyter contributors (@nbops)
description:
  - Meant to run on the controller (C(delegate_to) set to C(localhost)), once per play.
  - For each name in O(names), keeps or makes C(<name>.pem) (the certificate), C(<name>.key)
    (mode 0600) and C(<name>.p12) (PKCS#12 with O(password), mode 0600, for browsers and
    keychains) in O(path). A certificate is made again when it expires within O(renew_days) or
    its PKCS#12 doesn't open with O(password).
  - Each device certificate is self-signed (ECDSA P-256, C(clientAuth), C(CA:FALSE)) and is its own
    trust anchor; the server trusts exactly the allowed set (RV(certificates)). The files of a device
    no longer named are moved to C(revoked/), and the server refuses it once the set is deployed - other
    devices keep their certificates. There is no CRL.
  - The password reaches openssl through a pipe, never through its arguments.
options:
  path:
    description: The directory of device certificates on the controller (made C(0700)).
    type: path
    required: true
  names:
    description: The allowed devices.
    type: list
    elements: str
    default: []
  password:
    description: The PKCS#12 files' password.
    type: str
    default: ""
  valid_days:
    description: Validity of a new device certificate.
    type: int
    default: 365
  renew_days:
    description: Make a certificate again when it expires within this many days.
    type: int
    default: 30
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
  - module: nbops.jupyter.notebook_ca
"""

EXAMPLES = r"""
- name: Issue the device certificates
  nbops.jupyter.notebook_client_certificates:
    path: "{{ inventory_dir }}/notebook-clients"
    names: [laptop-ada, tablet-bob]
    password: "{{ vault_device_p12_password }}"
  delegate_to: localhost
  become: false
  run_once: true
  register: devices
"""

RETURN = r"""
issued:
  description: The devices whose certificate was (or in check mode would be) made.
  returned: always
  type: list
  elements: str
revoked:
  description: The devices whose files were (or would be) moved to C(revoked/).
  returned: always
  type: list
  elements: str
certificates:
  description: The allowed devices' certificates (PEM), in the order of O(names); in check mode, those that would be kept.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _ca


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "names": {"type": "list", "elements": "str", "default": []},
            "password": {"type": "str", "default": "", "no_log": True},
            "valid_days": {"type": "int", "default": 365},
            "renew_days": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        answer = _ca.ensure_devices(p["path"], p["names"], p["password"], p["valid_days"], p["renew_days"],
                                    check_mode=module.check_mode)
    except (_ca.CAError, OSError, RuntimeError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(answer["issued"] or answer["revoked"]), **answer)


if __name__ == "__main__":
    main()
