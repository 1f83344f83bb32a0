#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_paths
short_description: Make the Jupyter server's account, directories and marker files without following links
version_added: 0.2.0
author: nbops.jupyter contributors (@nbops)
description:
  - Makes each path a directory or a regular file with the given owner, group and mode, and
    changes only what differs. Missing parent directories are made like the path.
  - Paths are walked one component at a time through file descriptors, and owner and mode are set
    on the descriptor of the object itself, so a user who can write a directory on the way (the
    server's account owns its home and notebooks directory, and its kernels run arbitrary code)
    cannot redirect root to another file, however it times its changes.
  - A symbolic link is followed only in a directory that only root can write. A link planted in any
    other directory, where a managed directory belongs, is removed and the directory made again,
    leaving the link's target untouched (reported as a warning). Anything else in the way is an
    error naming the path, and nothing else changes.
  - With O(account), first makes the server's system group and user (or sets the user's group,
    home and shell where they differ), in the same call. The role makes the account and its
    directories on a first converge while the install runs, and each call is on the way to the
    server's start. A person's account (a uid from C(UID_MIN), or a shell to log in with) is
    never taken over, nor a group others are in; either is refused before anything changes.
options:
  account:
    description:
      - The service account to make before the paths, which may be owned by it.
      - Made with C(groupadd --system) and C(useradd --system --no-create-home) (the home is one
        of O(paths)); an existing user whose group, home or shell differ is changed with C(usermod).
    type: dict
    version_added: 0.4.0
    suboptions:
      user:
        description: User name.
        type: str
        required: true
      group:
        description: Its primary group, a system group made when missing.
        type: str
        required: true
      home:
        description: Its home directory.
        type: path
        required: true
      shell:
        description: Its shell.
        type: path
        default: /usr/sbin/nologin
      comment:
        description: Its GECOS comment, set when the user is made or changed.
        type: str
        default: Jupyter Notebook server
  paths:
    description: The paths to make, each with C(path), C(owner), C(group), C(mode) (octal string) and C(state).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path, without C(.) or C(..) components.
        type: path
        required: true
      owner:
        description: User name of the owner.
        type: str
        required: true
      group:
        description: Group name.
        type: str
        required: true
      mode:
        description: Mode as an octal string such as C("0750").
        type: str
        required: true
      state:
        description: V(directory), or V(file) for an empty marker file (an existing one keeps its content).
        type: str
        choices: [directory, file]
        default: directory
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
seealso:
  - module: nbops.jupyter.notebook_host_info
"""

EXAMPLES = r"""
- name: Make the service account and the server's directories
  nbops.jupyter.notebook_paths:
    account: {user: jupyter, group: jupyter, home: /var/lib/jupyter-notebook}
    paths:
      - {path: /etc/jupyter-notebook, owner: root, group: jupyter, mode: "0750"}
      - {path: /etc/jupyter-notebook/migrated, owner: root, group: jupyter, mode: "0640", state: file}
      - {path: /var/lib/jupyter-notebook/notebooks, owner: jupyter, group: jupyter, mode: "0750"}
"""

RETURN = r"""
actions:
  description: What was changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [create group jupyter, create user jupyter, create /var/lib/jupyter-notebook/notebooks]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _host, _safepath


def ensure_account(module, account: dict) -> list[str]:
    """Make the group and the user as the role makes them; the actions taken (or due, in check mode).
    Everything is checked before anything changes: a person's account, or a group that others
    share, is refused (the role's checks refuse both first; a call of the module alone is refused too).
    What the account is now comes from the host reader's own answer (``_host.account``)."""
    user, group, home, shell = account["user"], account["group"], account["home"], account["shell"]
    now = _host.account(user, group, home, shell)
    person, entry = now["user"], now["group"]
    if person is not None and person["login"]:
        raise _safepath.UnsafePath(f"account.user {user} is a person's account (uid {person['uid']}, shell {person['shell']}): "
                                   "it is not taken over")
    if entry is not None:
        # The server's group reads the TLS key and the password hash: nobody else may be in it.
        others = sorted(set(entry["members"] + entry["primary_of"]) - {user})
        if others:
            raise _safepath.UnsafePath(f"account.group {group} is shared with {', '.join(others)}: it is not taken over")
    actions = []
    if entry is None:
        actions.append(f"create group {group}")
        _change(module, ["groupadd", "--system", group], "account.group")
    if person is None:
        actions.append(f"create user {user}")
        _change(module, ["useradd", "--system", "--gid", group, "--home-dir", home, "--no-create-home",
                         "--shell", shell, "--comment", account["comment"], user], "account.user")
        return actions
    # (usermod's option, the value, the module's option it comes from), where the user differs.
    changes = []
    if entry is None or person["gid"] != entry["gid"]:
        changes.append(("gid", group, "account.group"))
    if person["home"] != home:
        changes.append(("home", home, "account.home"))  # Without --move-home: the paths make the new home.
    if person["shell"] != shell:
        changes.append(("shell", shell, "account.shell"))
    if changes:
        actions.append(f"set the {' and '.join(change[0] for change in changes)} of user {user}")
        argv = ["usermod", "--comment", account["comment"]]
        for name, value, _option in changes:
            argv += [f"--{name}", value]
        _change(module, argv + [user], " and ".join(change[2] for change in changes))
    return actions


def _change(module, argv: list[str], options: str) -> None:
    """Run one of the shadow tools; a failure names the options it was to apply."""
    if module.check_mode:
        return
    rc, out, err = module.run_command(argv)
    if rc != 0:
        raise _safepath.UnsafePath(f"{argv[0]} for {argv[-1]} failed (exit {rc}) applying {options}: {(out + err).strip()}"
                                   + (" (usermod can't change a user whose processes run: stop the server first)"
                                      if argv[0] == "usermod" and rc == 8 else ""))


def main():
    module = AnsibleModule(
        argument_spec={
            "account": {
                "type": "dict",
                "options": {
                    "user": {"type": "str", "required": True},
                    "group": {"type": "str", "required": True},
                    "home": {"type": "path", "required": True},
                    "shell": {"type": "path", "default": "/usr/sbin/nologin"},
                    "comment": {"type": "str", "default": "Jupyter Notebook server"},
                },
            },
            "paths": {
                "type": "list", "elements": "dict", "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "owner": {"type": "str", "required": True},
                    "group": {"type": "str", "required": True},
                    "mode": {"type": "str", "required": True},
                    "state": {"type": "str", "choices": ["directory", "file"], "default": "directory"},
                },
            },
        },
        supports_check_mode=True,
    )
    walker = _safepath.Walker(check_mode=module.check_mode)
    changed = False
    try:
        if module.params["account"]:
            walker.actions.extend(ensure_account(module, module.params["account"]))
            changed = bool(walker.actions)
        for item in module.params["paths"]:
            mode = _safepath.parse_mode(item["mode"], item["path"])
            uid, gid = _safepath.account_ids(item["path"], item["owner"], item["group"], module.check_mode)
            changed |= _safepath.ensure(item["path"].rstrip("/") or "/", item["state"], uid, gid, mode, walker)
    except (_safepath.UnsafePath, OSError) as exc:
        module.fail_json(msg=str(exc), actions=walker.actions)
    for warning in walker.warnings:
        module.warn(warning)
    module.exit_json(changed=changed, actions=walker.actions)


if __name__ == "__main__":
    main()
