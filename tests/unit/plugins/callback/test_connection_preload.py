# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.connection_preload: ansible-playbook's workers stop reading a connection plugin's
documentation for every task and host once the callback has loaded the plugin in the parent.

Counted in ansible-playbook's debug output ("Loaded config def from plugin (connection/...)"):
real runs, two hosts over the local connection named as ansible-lint asks (FQCN)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible_collections.nbops.jupyter.plugins.callback import connection_preload
from ansible_collections.nbops.jupyter.plugins.callback.connection_preload import CallbackModule, connection_names

_ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
# The directory holding ansible_collections/nbops/jupyter, as this test imported the collection.
_COLLECTIONS = Path(connection_preload.__file__).parents[5]
_LOADED = "Loaded config def from plugin (connection/ansible_collections.ansible.builtin.plugins.connection.local)"
_PLAY = """\
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.command: "true"
    - ansible.builtin.command: "true"
    - ansible.builtin.debug: {msg: done}
"""
_CONNECTION = "ansible_connection=ansible.builtin.local"
needs_ansible_playbook = pytest.mark.skipif(not _ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not beside this Python")


def _loads(tmp_path, callbacks: str, where: str = "inventory", env: dict | None = None) -> int:
    """How often a run of 3 tasks on 2 hosts read the local connection plugin's settings from its
    documentation; the hosts' ansible_connection set in the inventory or in a group_vars file."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("".join(f"{name} {_CONNECTION if where == 'inventory' else ''} ansible_python_interpreter={sys.executable}\n"
                                 for name in ("one", "two")))
    if where == "group_vars":
        (tmp_path / "group_vars").mkdir(exist_ok=True)
        (tmp_path / "group_vars" / "all.yml").write_text("ansible_connection: ansible.builtin.local\n")
    play = tmp_path / "play.yml"
    play.write_text(_PLAY)
    run_env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "NBOPS_"))}
    # Every state directory in tmp_path: nothing of the run in the user's ~/.ansible.
    run_env.update(ANSIBLE_DEBUG="1", ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=str(tmp_path / "ansible-home"),
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"),
                   ANSIBLE_COLLECTIONS_PATH=str(_COLLECTIONS),
                   ANSIBLE_CALLBACKS_ENABLED=callbacks, **(env or {}))
    run = subprocess.run([str(_ANSIBLE_PLAYBOOK), "-i", str(inventory), str(play)], capture_output=True, text=True,
                         env=run_env, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout.count(_LOADED) + run.stderr.count(_LOADED)


@needs_ansible_playbook
def test_workers_read_the_plugin_for_each_task_and_host_without_it_and_never_with_it(tmp_path):
    # Without the callback each of the 6 workers reads it. Should ansible-core come to keep it
    # itself, this fails, and the callback can go.
    assert _loads(tmp_path, "ansible.posix.profile_tasks") == 6
    # With it: once, in ansible-playbook's own process, before the first worker.
    assert _loads(tmp_path, "nbops.jupyter.connection_preload") == 1


@needs_ansible_playbook
def test_a_connection_set_in_group_vars_files_is_preloaded_when_named_in_the_option(tmp_path):
    assert _loads(tmp_path, "nbops.jupyter.connection_preload", "group_vars") == 6
    assert _loads(tmp_path, "nbops.jupyter.connection_preload", "group_vars",
                  {"NBOPS_CONNECTION_PRELOAD": "ansible.builtin.local"}) == 1


class _Entity(SimpleNamespace):
    def get_groups(self):
        return self.groups


class _Inventory(SimpleNamespace):
    def get_hosts(self, pattern):
        return [host for name, host in self.hosts.items() if name in pattern]


def _play(connection=None, play_vars=None, targets=(), hosts=(), groups=()):
    """A play on `targets` of an inventory of `hosts` (name, vars, group names) and `groups` (name, vars)."""
    group_objects = {name: _Entity(vars=v) for name, v in groups}
    inventory = _Inventory(hosts={n: _Entity(vars=v, groups=[group_objects[g] for g in gs]) for n, v, gs in hosts},
                           groups=group_objects)
    return SimpleNamespace(connection=connection, vars=play_vars or {}, hosts=list(targets),
                           _variable_manager=SimpleNamespace(_inventory=inventory))


def test_names_are_qualified_as_workers_resolve_them():
    play = _play("smart", {"ansible_connection": "paramiko"}, targets=["a", "b"],
                 hosts=[("a", {"ansible_connection": "community.docker.docker"}, ["all"]), ("b", {}, ["all", "web"])],
                 groups=[("all", {"ansible_connection": "paramiko_ssh"}), ("web", {"ansible_connection": "{{ conn }}"})])
    assert connection_names(play, ["kubectl"]) == [
        "ansible.builtin.kubectl", "ansible.builtin.paramiko_ssh", "ansible.builtin.ssh", "community.docker.docker"]


def test_only_the_hosts_the_play_targets_and_their_groups_count():
    play = _play(targets=["a"], hosts=[("a", {}, ["web"]), ("b", {"ansible_connection": "community.docker.docker"}, ["db"])],
                 groups=[("web", {"ansible_connection": "local"}), ("db", {"ansible_connection": "winrm"})])
    assert connection_names(play) == ["ansible.builtin.local", "ansible.builtin.ssh"]


def test_a_play_without_inventory_or_connection_still_gets_the_default():
    assert connection_names(SimpleNamespace(connection=None)) == ["ansible.builtin.ssh"]


def test_a_name_that_does_not_load_is_left_to_the_worker():
    callback = CallbackModule()
    callback.get_option = lambda name: ["no.such.connection", "bad name"]
    # No exception: a worker that needs it reports it as it would without the callback.
    callback.v2_playbook_on_play_start(_play())
    # Nor from an ansible_connection that is no name at all.
    callback.v2_playbook_on_play_start(_play(targets=["a"], hosts=[("a", {"ansible_connection": ["ssh"]}, [])]))
