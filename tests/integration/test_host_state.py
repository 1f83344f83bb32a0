# SPDX-License-Identifier: GPL-3.0-or-later
"""What must be true on the host: file modes, one config file, no plaintext password anywhere."""

from __future__ import annotations

import json

from converge import run_playbook
from hostcheck import sh


def test_only_the_config_for_the_installed_version_is_left(server, host, paths):
    listing = sh(host, f"cd {paths['config']} && ls -1 *.json *.py 2>/dev/null || true").split()
    expected = "jupyter_server_config.json" if server["major"] == 7 else "jupyter_notebook_config.json"
    assert listing == [expected]


def test_config_is_root_owned_and_hidden_from_others(host, paths):
    modes = sh(host, f"stat -c '%U:%a' {paths['config']} {paths['config']}/*.json").split()
    assert modes == ["root:750", "root:640"]


def test_plaintext_password_is_nowhere_on_the_host(server, host, paths):
    # The password goes in on stdin, so it is never in an argument list itself.
    found = sh(
        host,
        "pw=$(cat); pids=$(systemctl show -p MainPID --value " + paths["service"] + "); "
        "grep -rlF -- \"$pw\" /etc /opt /srv /var/lib /var/log /run /tmp /root /home 2>/dev/null; "
        "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/cmdline 2>/dev/null | grep -qF -- \"$pw\" && echo \"$p/cmdline\"; "
        "tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qF -- \"$pw\" && echo \"$p/environ\"; done; "
        "journalctl --no-pager -o cat | grep -qF -- \"$pw\" && echo journal; true",
        stdin=server["password"],
    )
    assert found.split() == []


FACTS = ["fqdn", "hostname", "architecture", "python", "os_family", "distribution", "distribution_major_version",
         "service_mgr"]


def test_the_roles_facts_are_those_setup_gives(host, tmp_path):
    """The host reader's facts (the role's first call) and nbops.jupyter.notebook_facts stand in for setup
    when the play gathers no facts: a play that gathers them and one that doesn't must give the role
    the same values (else a re-run with the other would change the certificate's names or the jail)."""
    playbook = tmp_path / "facts.yml"
    playbook.write_text(json.dumps([{
        "hosts": "all", "gather_facts": False,
        "tasks": [
            {"nbops.jupyter.notebook_facts": None, "register": "__mine"},
            {"nbops.jupyter.notebook_host_info": {"facts": True}, "register": "__reader"},
            {"ansible.builtin.setup": {"gather_subset": ["min"], "filter": [f"ansible_{k}" for k in FACTS]},
             "register": "__theirs"},
            {"ansible.builtin.assert": {
                "that": ["keys | map('extract', __mine.ansible_facts) | list"
                         " == keys | map('regex_replace', '^', 'ansible_') | map('extract', __theirs.ansible_facts) | list",
                         "keys | map('extract', __reader.ansible_facts) | list == keys | map('extract', __mine.ansible_facts) | list"],
                "fail_msg": "{{ __mine.ansible_facts }} != {{ __theirs.ansible_facts }} (reader: {{ __reader.ansible_facts }})"},
             "vars": {"keys": FACTS}},
        ]}]))
    rc, output = run_playbook(playbook, limit=host)
    assert rc == 0 and "ok=4" in output, output[-3000:]
