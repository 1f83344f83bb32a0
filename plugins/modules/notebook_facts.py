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
    is on the critical path of every run.
  - The interface addresses are not among them (M(ansible.builtin.setup) reads them with C(ip)); the role
    asks C(setup) for those when it needs them.
options:
  stamp:
    description:
      - The converged-host stamp of P(nbops.jupyter.notebook_host_info#module); its first line, the digest of
        the controller's inputs the last run seen to change nothing had, is returned as RV(stamp_inputs).
    type: path
    version_added: 0.4.0
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
stamp_inputs:
  description: With O(stamp), the inputs' digest it holds (empty when there is none only root could have left).
  returned: when O(stamp) is given
  type: str
  version_added: 0.4.0
"""

import os
import platform
import re
import shlex
import socket
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _stamp

# setup's OS_FAMILY_MAP entry for Debian.
DEBIAN_FAMILY = {"Ubuntu", "Debian", "Raspbian", "Neon", "KDE neon", "Linux Mint", "SteamOS", "Devuan", "Kali",
                 "Cumulus Linux", "Pop!_OS", "Parrot", "Pardus GNU/Linux", "Uos", "Deepin", "OSMC"}
# sd_booted(3)'s test, as setup's service_mgr collector makes it.
SYSTEMD_CANARIES = ("/run/systemd/system/", "/dev/.run/systemd/", "/dev/.systemd/")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def os_release(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[A-Z_]+", key.strip()):
            try:
                words = shlex.split(value)
            except ValueError:
                continue
            fields[key.strip()] = words[0] if words else ""
    return fields


def distribution(release: dict[str, str], debian_version: str) -> dict[str, str]:
    """Name, family and major version as setup gives them on the Debian family (distro's id,
    capitalized; the major version of the most precise version known)."""
    name = release.get("ID", "").capitalize() or platform.system()
    family = "Debian" if name in DEBIAN_FAMILY or "debian" in release.get("ID_LIKE", "").split() else name
    version = release.get("VERSION_ID", "")
    if name == "Debian" and re.match(r"\d+(\.\d+)*$", debian_version):
        version = debian_version
    return {"distribution": name, "os_family": family, "distribution_major_version": version.split(".")[0]}


def architecture() -> str:
    machine = platform.machine()
    return "i386" if re.fullmatch(r"i[3-6]86", machine) else machine


def service_mgr() -> str:
    if any(os.path.exists(canary) for canary in SYSTEMD_CANARIES):
        return "systemd"
    return _read("/proc/1/comm") or "unknown"


def python() -> dict:
    try:
        import ssl  # pylint: disable=import-outside-toplevel
        has_sslcontext = hasattr(ssl, "SSLContext")
    except ImportError:
        has_sslcontext = False
    info = sys.version_info
    return {"version": {"major": info[0], "minor": info[1], "micro": info[2], "releaselevel": info[3], "serial": info[4]},
            "version_info": list(info), "executable": sys.executable, "has_sslcontext": has_sslcontext,
            "type": sys.implementation.name}


def main():
    module = AnsibleModule(argument_spec={"stamp": {"type": "path"}}, supports_check_mode=True)
    facts = {"fqdn": socket.getfqdn(), "hostname": platform.node().split(".")[0], "architecture": architecture(),
             "python": python(), "service_mgr": service_mgr() if module.get_bin_path("systemctl") else _read("/proc/1/comm")}
    facts.update(distribution(os_release(_read("/etc/os-release") or _read("/usr/lib/os-release")),
                              _read("/etc/debian_version")))
    stamp = {"stamp_inputs": _stamp.read(module.params["stamp"])[0]} if module.params["stamp"] else {}
    module.exit_json(changed=False, ansible_facts=facts, **stamp)


if __name__ == "__main__":
    main()
