# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_facts: the values setup gives, from the same sources. (On real hosts,
tests/integration/test_host_state.py compares the two on both Debian releases.)"""

from __future__ import annotations

import socket
import sys

from ansible_collections.nbops.jupyter.plugins.module_utils import _facts
from ansible_collections.nbops.jupyter.plugins.modules import notebook_facts

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import run_module

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n'


def test_debian_takes_its_major_version_from_debian_version():
    assert _facts.distribution(_facts.os_release(DEBIAN), "12.12") == {
        "distribution": "Debian", "os_family": "Debian", "distribution_major_version": "12"}
    # Testing and unstable name a codename there: the release file's version stands.
    assert _facts.distribution(_facts.os_release(DEBIAN), "trixie/sid")["distribution_major_version"] == "12"


def test_the_debian_family_by_name_or_id_like():
    assert _facts.distribution(_facts.os_release(UBUNTU), "trixie/sid") == {
        "distribution": "Ubuntu", "os_family": "Debian", "distribution_major_version": "24"}
    other = _facts.distribution(_facts.os_release('ID="fedora"\nVERSION_ID=41\n'), "")
    assert other == {"distribution": "Fedora", "os_family": "Fedora", "distribution_major_version": "41"}


def test_a_broken_line_is_skipped():
    assert _facts.os_release('ID=debian\nNAME="unterminated\nVERSION_ID=12\n') == {"ID": "debian", "VERSION_ID": "12"}


def test_the_module_answers_facts_only():
    answer = run_module(notebook_facts, {})
    facts = answer["ansible_facts"]
    assert not answer["changed"] and facts["fqdn"] == socket.getfqdn()
    assert facts["python"]["version"]["minor"] == sys.version_info.minor
    assert set(facts) == {"fqdn", "hostname", "architecture", "python", "os_family", "distribution",
                          "distribution_major_version", "service_mgr"}
