#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_file
short_description: Write a file rendered on the controller into a directory only root can write, in one call
version_added: 0.3.0
author: nbops.jupyter contributors (@nbops)
description:
  - Writes O(content) to O(dest) with the given owner, group and mode, and changes only what
    differs. A new content is written to a temporary file beside O(dest), checked with
    O(validate) when given, and renamed over O(dest), so a reader never sees half a file and a
    content that fails the check never lands.
  - One module call, where M(ansible.builtin.template) makes three (a C(stat), the transfer of the
    file and C(copy)). The role writes the files of a first converge while the install runs, and
    each of those calls is on the way to the server's start. With O(files), one call writes several.
  - Only into a directory that only root can write, every directory on the way there too, so the
    server's account (whose kernels run any code) can't swap the destination, the temporary file or
    a directory on the way for a link or another file. Anything else is an error naming the path,
    and nothing changes (in check mode, a warning). O(dest) itself must be a regular file or missing.
options:
  dest:
    description:
      - Absolute path of the file, without C(.) or C(..) components.
      - Given with O(owner), O(group), O(mode) and one of O(content) and O(secret_content).
      - Exactly one of O(dest) and O(files) is given.
    type: path
  content:
    description:
      - The whole text of the file, usually C(lookup('ansible.builtin.template', ...)).
      - Shown in the diff (with C(--diff)) and with the task's arguments (in C(-vvv) output and the
        host's log). For a file that holds a secret use O(secret_content) instead.
      - Exactly one of O(content) and O(secret_content) is given.
    type: str
  secret_content:
    description:
      - The whole text of a file that holds a secret (a password hash, a key).
      - Censored as a C(no_log) option is, before the module logs its arguments on the host, in the
        result and in C(-vvv) output; no diff is shown and a failed O(validate) leaves the checker's
        output out of the message.
    type: str
  owner:
    description: User name of the owner. Required with O(dest).
    type: str
  group:
    description: Group name. Required with O(dest).
    type: str
  mode:
    description:
      - Mode as an octal string such as C("0640"), or the number YAML makes of an unquoted C(0640).
      - Required with O(dest).
    type: raw
  validate:
    description:
      - A command that checks the new content before it replaces O(dest); C(%s) stands for the
        temporary file's path (as in M(ansible.builtin.template)). Split like a shell would, but run
        without one. Not run in check mode, nor when only owner, group or mode differ. The temporary
        file is root's alone (C(0600)) while the check runs; it gets its owner and mode after.
    type: str
  files:
    description:
      - Several files in one call, instead of O(dest), O(content), O(secret_content), O(owner),
        O(group), O(mode) and O(validate). Each item's options mean what those options mean; each
        path is in the list at most once.
      - Written in the order given, each one whole (its temporary file, its check, owner, mode and
        the rename) before the next one's check runs. A check may read a file written before it.
      - The first file that fails stops the module with an error naming its O(files[].dest). The
        files before it stay written (see RV(written)); the ones after it are left alone.
      - No secret here. A file that holds one is written alone, with O(secret_content).
      - The diff is a list, one entry per changed file.
    type: list
    version_added: 0.4.0
    elements: dict
    suboptions:
      dest:
        description: Absolute path of the file, as O(dest).
        type: path
        required: true
      content:
        description: The whole text of the file, as O(content).
        type: str
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
        description: Mode, as O(mode).
        type: raw
        required: true
      validate:
        description: A command that checks the new content, as O(validate).
        type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
    details: With O(files), the diff is a list of the changed files' diffs.
seealso:
  - module: ansible.builtin.template
  - module: nbops.jupyter.notebook_paths
"""

EXAMPLES = r"""
- name: Install the systemd unit
  nbops.jupyter.notebook_file:
    dest: /etc/systemd/system/jupyter-notebook.service
    content: "{{ lookup('ansible.builtin.template', 'jupyter-notebook.service.j2') }}"
    owner: root
    group: root
    mode: "0644"
    validate: systemd-analyze verify %s

- name: Write the fail2ban filter, then the jail whose check reads it
  nbops.jupyter.notebook_file:
    files:
      - dest: /etc/fail2ban/filter.d/jupyter-notebook.conf
        content: "{{ lookup('ansible.builtin.template', 'fail2ban-filter.conf.j2') }}"
        owner: root
        group: root
        mode: "0644"
      - dest: /etc/fail2ban/jail.d/jupyter-notebook.conf
        content: "{{ lookup('ansible.builtin.template', 'fail2ban-jail.conf.j2') }}"
        owner: root
        group: root
        mode: "0644"
        # The whole config as it will be, the new filter in it already, in a copy of /etc/fail2ban.
        validate: >-
          /bin/sh -c 'd=$(mktemp -d) && trap "rm -rf $d" EXIT && cp -a /etc/fail2ban/. "$d"
          && cp "$1" "$d/jail.d/jupyter-notebook.conf" && fail2ban-client -c "$d" -t' sh %s
"""

RETURN = r"""
actions:
  description:
    - What was changed (or would be, in check mode), in the order of O(files).
    - After a failure, what was done before it.
  returned: always
  type: list
  elements: str
  sample: [write /etc/systemd/system/jupyter-notebook.service]
written:
  description:
    - The files whose content, owner or mode changed (or would, in check mode), in the order of O(files).
    - After a failure, the files changed before it.
  returned: always
  type: list
  elements: str
  sample: [/etc/fail2ban/filter.d/jupyter-notebook.conf]
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.nbops.jupyter.plugins.module_utils import _safepath

# Larger or binary files are left out of the diff, as ansible.builtin.copy does.
_DIFF_MAX = 100_000


def _read(dir_fd: int, name: str, dest: str):
    """(stat, bytes) of the file now at ``name``, or (None, b"") when there is none."""
    try:
        # O_NONBLOCK: a FIFO in its place must not hang the run (it is refused below).
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None, b""
    except OSError as exc:
        raise _safepath.UnsafePath(f"{dest} is not a regular file ({exc.strerror}); move it away and run again") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _safepath.UnsafePath(f"{dest} is not a regular file; move it away and run again")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return st, b"".join(chunks)
    finally:
        os.close(fd)


def _write_temp(dir_fd: int, name: str, data: bytes) -> tuple[str, int]:
    """A new root-only file beside ``name`` holding ``data``; returns its name and an open descriptor.

    Hidden, and ending like ``name``: a check reads it as the kind of file it is (fail2ban-regex
    loads a filter by its extension), and programs that read a directory's ``*.conf`` skip it."""
    for attempt in range(100):
        temp = f".nbops-{os.getpid()}-{attempt}-{name}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
            break
        except FileExistsError:
            continue
    else:
        raise _safepath.UnsafePath(f"{name}: no free temporary name beside it")
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _remove(dir_fd, temp)
        raise
    return temp, fd


def _remove(dir_fd: int, temp: str) -> None:
    """Take a temporary file away on an error path without hiding the error."""
    try:
        os.unlink(temp, dir_fd=dir_fd)
    except OSError:
        pass


def _diff(module, dest: str, before: bytes, after: bytes, secret: bool) -> dict | None:
    if not module._diff or secret:  # pylint: disable=protected-access
        return None
    if max(len(before), len(after)) > _DIFF_MAX or b"\0" in before + after:
        return {"before_header": dest, "after_header": dest, "before": "(large or binary)\n", "after": "(large or binary)\n"}
    return {"before_header": dest, "after_header": dest, "before": to_text(before, errors="replace"),
            "after": to_text(after, errors="replace")}


def write(module, dest: str, data: bytes, owner: str, group: str, mode, validate: str | None,
          secret: bool) -> tuple[list[str], dict | None]:
    """Make ``dest`` hold ``data`` with its owner and mode; (actions, diff). No action: no change."""
    parent, name = os.path.split(dest)
    if not name or not os.path.isabs(dest):
        raise _safepath.UnsafePath(f"{dest}: not an absolute path of a file")
    # YAML makes an unquoted 0640 the number 416: that number is the mode.
    mode = mode if isinstance(mode, int) else _safepath.parse_mode(str(mode), dest)
    uid, gid = _safepath.account_ids(dest, owner, group, module.check_mode)
    walker = _safepath.Walker(check_mode=True)
    try:
        # Every directory on the way only root's: the temporary file's path, which validate gets as
        # a string, then names the file the descriptors below write.
        dir_fd = walker.open_dir(parent, trusted_only=True)
    except FileNotFoundError:
        if module.check_mode:
            # A normal run would have made the directory by now (notebook_paths, a package).
            return [f"write {dest}"], _diff(module, dest, b"", data, secret)
        raise _safepath.UnsafePath(f"{parent}, the directory of {dest}, does not exist") from None
    except _safepath.UnsafePath as exc:
        if module.check_mode:
            # The layout step of a normal run may fix the directory first; if not, that run fails here.
            module.warn(f"a normal run writes {dest} only if this is fixed first: {exc}")
            return [f"write {dest}"], _diff(module, dest, b"", data, secret)
        raise
    try:
        st, before = _read(dir_fd, name, dest)
        actions: list[str] = []
        diff = _diff(module, dest, before, data, secret)
        if st is None or before != data:
            actions.append(f"write {dest}")
            if not module.check_mode:
                temp, fd = _write_temp(dir_fd, name, data)
                try:
                    if validate:
                        _validate(module, validate, os.path.join(parent, temp), dest, secret)
                    # Owner and mode only now: nobody but root could change the file while it was checked.
                    os.fchown(fd, uid, gid)
                    os.fchmod(fd, mode)
                    os.close(fd)
                    fd = -1
                    os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                except BaseException:
                    if fd >= 0:
                        os.close(fd)
                    _remove(dir_fd, temp)
                    raise
                try:
                    os.fsync(dir_fd)
                except OSError:
                    pass  # The rename is done; only its durability across a crash is less sure.
            return actions, diff
        if (st.st_uid, st.st_gid) != (uid, gid) or stat.S_IMODE(st.st_mode) != mode:
            actions.append(f"set owner and mode of {dest}")
            if not module.check_mode:
                # Through a descriptor of the file itself; only root can replace it in this directory.
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
                try:
                    os.fchown(fd, uid, gid)
                    os.fchmod(fd, mode)
                finally:
                    os.close(fd)
        return actions, diff if actions else None
    finally:
        os.close(dir_fd)


class ValidationFailed(Exception):
    """The new content failed ``validate``; its output is the message."""


def _validate(module, command: str, path: str, dest: str, secret: bool) -> None:
    try:
        if "%s" not in command:
            raise ValueError("no %s")
        argv = command % path
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"validate must hold one %s (the new file's path) and any other % doubled (%%); "
                               f"it is {command!r} ({exc})") from None
    rc, out, err = module.run_command(argv)
    if rc != 0:
        # A checker may quote the file: a secret's is left out.
        shown = "(output left out: the file holds a secret)" if secret else (out + err).strip()
        raise ValidationFailed(f"the new content of {dest} failed its check ({argv} exited {rc}): {shown}")


# The options of one file; files is instead of all of them.
_SINGLE = ("dest", "content", "secret_content", "owner", "group", "mode", "validate")


def main():
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path"},
            # Not no_log: that would censor the diff of every file. A secret comes as secret_content,
            # censored before AnsibleModule logs its arguments on the host.
            "content": {"type": "str"},
            "secret_content": {"type": "str", "no_log": True},
            "owner": {"type": "str"},
            "group": {"type": "str"},
            "mode": {"type": "raw"},
            "validate": {"type": "str"},
            "files": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "dest": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                    "owner": {"type": "str", "required": True},
                    "group": {"type": "str", "required": True},
                    "mode": {"type": "raw", "required": True},
                    "validate": {"type": "str"},
                },
            },
        },
        mutually_exclusive=[["content", "secret_content"]] + [["files", option] for option in _SINGLE],
        required_one_of=[["dest", "files"]],
        required_by={"dest": ["owner", "group", "mode"]},
        supports_check_mode=True,
    )
    params = module.params
    many = params["files"] is not None
    secret = params["secret_content"] is not None
    if many:
        files = params["files"]
        seen = set()
        for item in files:
            if os.path.normpath(item["dest"]) in seen:
                module.fail_json(msg=f"{item['dest']} is in files twice", changed=False, actions=[], written=[])
            seen.add(os.path.normpath(item["dest"]))
    else:
        if params["content"] is None and not secret:
            module.fail_json(msg="one of the following is required with dest: content, secret_content")
        files = [{"dest": params["dest"], "content": params["secret_content"] if secret else params["content"],
                  "owner": params["owner"], "group": params["group"], "mode": params["mode"],
                  "validate": params["validate"]}]
    actions: list[str] = []
    written: list[str] = []
    diffs: list[dict] = []
    for item in files:
        dest = item["dest"]
        try:
            done, diff = write(module, dest, to_bytes(item["content"], errors="surrogate_or_strict"), item["owner"],
                               item["group"], item["mode"], item["validate"], secret)
        except (_safepath.UnsafePath, ValidationFailed, OSError) as exc:
            msg = str(exc)
            if many and dest not in msg:
                msg = f"{dest}: {msg}"
            # Nothing more is done; what the files before this one got stays, and is told.
            module.fail_json(msg=msg, changed=bool(written), actions=actions, written=written)
        if done:
            actions.extend(done)
            written.append(dest)
            if diff is not None:
                diffs.append(diff)
    result = {"changed": bool(written), "actions": actions, "written": written}
    if diffs:
        # Ansible's callbacks show a list of diffs one after the other.
        result["diff"] = diffs if many else diffs[0]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
