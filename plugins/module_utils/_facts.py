# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""The facts the notebook role reads, each worked out as ansible.builtin.setup does on a Linux host
(fqdn, hostname, architecture, python, os_family, distribution, distribution_major_version,
service_mgr): nbops.jupyter.notebook_facts answers them, and notebook_host_info compares them with
those its converged-host stamp recorded.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import socket
import sys

from ansible.module_utils.common.process import get_bin_path

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


def gather() -> dict:
    """The role's facts of this host, named as setup names them (without the ``ansible_`` prefix)."""
    facts = {"fqdn": socket.getfqdn(), "hostname": platform.node().split(".")[0], "architecture": architecture(),
             "python": python(), "service_mgr": service_mgr() if _systemctl() else _read("/proc/1/comm")}
    facts.update(distribution(os_release(_read("/etc/os-release") or _read("/usr/lib/os-release")),
                              _read("/etc/debian_version")))
    return facts


def _systemctl() -> bool:
    try:
        get_bin_path("systemctl")  # PATH and the sbin directories, as setup looks
    except ValueError:
        return False
    return True
