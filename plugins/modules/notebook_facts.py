#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_facts
short_description: The few facts the notebook role reads, as ansible.builtin.setup names and computes them
version_added: 0.4.0
author: nbops.jupyter contributors (@nbops)
description:
  - Returns C(fqdn), C(hostname), C(architecture), C(python), C(os_family), C(distribution),
    C(distribution_major_version) and C(service_mgr) in C(ansible_facts), each worked out as
    M(ansible.builtin.setup) does on a Linux host, so a play that gathers facts itself and one that
    leaves it to the role give the role the same values.
  - For a play without facts. M(ansible.builtin.setup) carries all of Ansible's fact collectors to the
    host on every run, even with O(ansible.builtin.setup#module:gather_subset) and
    O(ansible.builtin.setup#module:filter) set; this module is a few lines, and a first call to a host
    is on the critical path of every run. The role itself takes the same facts from its first call,
    P(nbops.jupyter.notebook_host_info#module) with O(nbops.jupyter.notebook_host_info#module:facts).
  - The interface addresses are not among them (M(ansible.builtin.setup) reads them with C(ip)); the role
    asks C(setup) for those when it needs them.
options: {}
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    support: full
    platforms: posix
seealso:
  - module: ansible.builtin.setup
"""

EXAMPLES = r"""
- name: Gather what the role reads
  nbops.jupyter.notebook_facts:
  when: ansible_facts['fqdn'] is not defined
"""

RETURN = r"""
ansible_facts:
  description: The facts, named as M(ansible.builtin.setup) names them (without the C(ansible_) prefix).
  returned: always
  type: dict
  sample:
    fqdn: nb1.example.org
    hostname: nb1
    architecture: x86_64
    os_family: Debian
    distribution: Debian
    distribution_major_version: "12"
    service_mgr: systemd
    python: {version: {major: 3, minor: 11, micro: 2, releaselevel: final, serial: 0}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _facts


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.exit_json(changed=False, ansible_facts=_facts.gather())


if __name__ == "__main__":
    main()
