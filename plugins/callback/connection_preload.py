# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: connection_preload
type: aggregate
short_description: Loads the play's connection plugins once, before ansible-playbook forks its workers
version_added: 0.4.0
author: nbops.jupyter contributors (@nbops)
description:
  - C(ansible-playbook) runs each task on each host in a worker process it forks for that task. The
    worker loads the host's connection plugin and, where the parent process has not, reads the
    plugin's settings out of its documentation (a YAML parse).
  - ansible-core 2.19 loads its own connection plugins in the parent under their short names
    (C(ssh)). A host whose C(ansible_connection) gives the full name (C(ansible.builtin.ssh), as
    ansible-lint's FQCN rule asks) or a collection's plugin (C(community.docker.docker),
    C(amazon.aws.aws_ssm)) makes each worker resolve another name, and read the documentation
    again, for every task on every host that is not skipped. For C(ssh), a profile of this
    collection's converged re-run counted about 26 ms of the controller's CPU per worker (48 workers,
    1.26 s). Its C(make bench), 32 converged hosts re-run, measured 0.62 and 0.63 controller cpu-s
    per host without this callback against 0.55 and 0.60 with it, in two runs.
  - At the start of each play this callback loads, in the parent, under the names the workers
    resolve, the connection plugins the play's hosts use. The workers forked after that inherit
    them.
  - The plugins it loads are the play's own connection (its C(connection) keyword, C(-c), or
    C(DEFAULT_TRANSPORT)); the C(ansible_connection) of the play's C(vars), and every one the
    inventory sets on a host the play targets or on one of its groups; and those in O(connections).
  - It changes no task's result and prints nothing. A name it cannot load is left to the worker,
    which reports it as it would without this callback.
  - Enable it in C(ansible.cfg) (C(callbacks_enabled = nbops.jupyter.connection_preload)), or with
    E(ANSIBLE_CALLBACKS_ENABLED).
requirements:
  - enable it in C(callbacks_enabled)
options:
  connections:
    description:
      - More connection plugins to load, by name (C(ssh), C(community.docker.docker)).
      - For C(ansible_connection) set where neither the inventory's own variables nor the play's
        C(vars) say it, such as in C(group_vars) files.
    type: list
    elements: str
    default: []
    ini:
      - section: callback_connection_preload
        key: connections
    env:
      - name: NBOPS_CONNECTION_PRELOAD
"""

from ansible import constants as C
from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import connection_loader

# The names under which a worker finds the built-in plugins (ansible-core 2.19).
_BUILTIN = "ansible.builtin."
# Names the loader maps to another plugin (loader.py's aliases), which it applies to short names only.
_ALIASES = {"smart": "ssh", "paramiko": "paramiko_ssh"}


def _qualified(name: str) -> str:
    name = _ALIASES.get(name, name)
    return name if "." in name else _BUILTIN + name


def _named(value) -> bool:
    """A plugin's name, not a template the worker fills in."""
    return isinstance(value, str) and bool(value) and "{" not in value


def _play_hosts(play, inventory) -> list:
    """The hosts the play targets (its `hosts`, within --limit); all the inventory's where that fails."""
    try:
        return inventory.get_hosts(play.hosts)
    except Exception:  # pylint: disable=broad-exception-caught
        return list(inventory.hosts.values())


def connection_names(play, extra=()) -> list:
    """The connection plugins `play`'s workers load, qualified as they resolve them: the play's
    connection, the ansible_connection of its vars and of its hosts and their groups, `extra`."""
    names = {C.DEFAULT_TRANSPORT, play.connection, (getattr(play, "vars", None) or {}).get("ansible_connection"), *extra}
    # The inventory's own variables (not those of vars plugins, such as group_vars files: `extra`).
    inventory = getattr(getattr(play, "_variable_manager", None), "_inventory", None)
    if inventory is not None:
        for host in _play_hosts(play, inventory):
            for entity in [host, *host.get_groups()]:
                names.add(entity.vars.get("ansible_connection"))
    return sorted({_qualified(name) for name in names if _named(name)})


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "nbops.jupyter.connection_preload"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_play_start(self, play):
        # A speed-up never fails a run: what is wrong here, a worker reports as it would without it.
        try:
            names = connection_names(play, self.get_option("connections"))
        except Exception as error:  # pylint: disable=broad-exception-caught
            self._display.vvv(f"connection_preload: no names: {error}")
            return
        for name in names:
            try:
                connection_loader.get(name, class_only=True)
            except Exception as error:  # pylint: disable=broad-exception-caught
                self._display.vvv(f"connection_preload: {name} not loaded here: {error}")
