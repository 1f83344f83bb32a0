# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Read-only answers about a host: OS packages, the service account, files the role renders,
the password hash already deployed, and the systemd service (including a restart that an
earlier run left pending).

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import glob
import grp
import hashlib
import json
import os
import pickle
import pickletools
import pwd
import re
import socket
import stat
import struct
import subprocess
import time

from ._safepath import UnsafePath, Walker, parse_mode


def _run(argv: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)


def packages(names: list[str]) -> list[str]:
    """Which of the Debian packages are installed."""
    if not names:
        return []
    proc = _run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n"] + list(names))
    return sorted(line.split()[0] for line in proc.stdout.splitlines() if line.endswith(" installed"))


def account(user: str, group: str, home: str, shell: str) -> dict:
    """Whether the user and group exist as the role makes them, and what they are now: who else
    has the group, and whether the user is a person's account (a uid from UID_MIN, or a shell to
    log in with), which the role must never take over."""
    answer = {"group_ok": False, "user_ok": False, "group": None, **_user(user)}
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return answer
    answer["group_ok"] = True
    answer["group"] = {"gid": entry.gr_gid, "members": sorted(entry.gr_mem),
                       "primary_of": sorted(p.pw_name for p in pwd.getpwall() if p.pw_gid == entry.gr_gid)}
    person = answer["user"]
    answer["user_ok"] = person is not None and (person["gid"], person["home"], person["shell"]) == (entry.gr_gid, home, shell)
    return answer


def _user(user: str) -> dict:
    try:
        person = pwd.getpwnam(user)
    except KeyError:
        return {"user": None}
    login = person.pw_uid >= _uid_min() or person.pw_shell not in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")
    return {"user": {"uid": person.pw_uid, "gid": person.pw_gid, "home": person.pw_dir, "shell": person.pw_shell, "login": login}}


def _uid_min() -> int:
    """The first uid of a person's account (login.defs UID_MIN, 1000 on Debian)."""
    try:
        with open("/etc/login.defs", encoding="utf-8") as fh:
            for line in fh:
                words = line.split()
                if len(words) >= 2 and words[0] == "UID_MIN" and words[1].isdigit():
                    return int(words[1])
    except OSError:
        pass
    return 1000


def owners(paths: list[str]) -> dict:
    """For each path: None when missing, else its kind and owner (not following a last link)."""
    found = {}
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:
            found[path] = None
            continue
        kind = "directory" if stat.S_ISDIR(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode) else "other"
        found[path] = {"kind": kind, "uid": st.st_uid, "owner": _names(st)[0]}
    return found


def _names(st: os.stat_result) -> tuple[str, str]:
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return owner, group


def rendered(path: str, owner: str, group: str, mode: str) -> str | None:
    """sha1 of a file the role renders, or None when it is missing, not a plain file, or has
    another owner or mode: the template task runs only when its rendering has another sha1."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or (*_names(st), stat.S_IMODE(st.st_mode)) != (owner, group, parse_mode(mode, path)):
        return None
    with open(path, "rb") as fh:
        return hashlib.sha1(fh.read()).hexdigest()


def deployed_hashes(path: str) -> list[str]:
    """The password hashes in a JSON config file of either Notebook version."""
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, ValueError):
        return []
    found = []
    for section, trait in (("PasswordIdentityProvider", "hashed_password"), ("NotebookApp", "password")):
        value = config.get(section) if isinstance(config, dict) else None
        value = value.get(trait) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            found.append(value)
    return found


def _files(directory: str) -> list[str]:
    """The files under a directory, reached and walked without following a link another user could have
    planted: the service account owns its home, and a link it put at ~/.jupyter (or on the way there)
    would have root walk, and name in a warning, whatever it points at. Such a directory counts as empty."""
    try:
        fd = Walker().open_dir(directory)
    except (OSError, UnsafePath):
        return []
    found = []
    try:
        for root, _dirs, names, _fd in os.fwalk(".", dir_fd=fd):
            found.extend(os.path.normpath(os.path.join(directory, root, name)) for name in names)
    finally:
        os.close(fd)
    return sorted(found)


def stray_config(directories: list[str], venv: str) -> dict:
    """Jupyter config outside the role's own directory. ``not_read``: files in ``directories``
    (system and user paths the unit keeps the server from reading); ``read``: files in the venv's
    etc/jupyter that no installed distribution's RECORD lists (an extension's own .d files are)."""
    from ._venv import site_packages

    venv_config = os.path.join(venv, "etc", "jupyter")
    found = _files(venv_config)
    owned = set()
    for site in site_packages(venv) if found else []:
        for record in glob.glob(os.path.join(site, "*.dist-info", "RECORD")):
            try:
                with open(record, encoding="utf-8") as fh:
                    # Only the lines that can name a file there (the RECORDs list thousands of files).
                    owned.update(os.path.normpath(os.path.join(site, line.rsplit(",", 2)[0]))
                                 for line in fh if "etc/jupyter/" in line)
            except OSError:
                continue
    return {
        "not_read": [path for directory in directories for path in _files(directory)],
        "read": [path for path in found if path not in owned],
    }


# fail2ban's own socket (fail2ban.conf's default), and its protocol's end of a message.
FAIL2BAN_SOCKET = "/run/fail2ban/fail2ban.sock"
_F2B_END = b"<F2B_END_COMMAND>"
_F2B_CLOSE = b"<F2B_CLOSE_COMMAND>"


def fail2ban_jails(socket_path: str = FAIL2BAN_SOCKET) -> list[str] | None:
    """The jails fail2ban runs, or None when it doesn't answer (not installed, not running). Asked on
    root's socket as fail2ban-client asks, which saves starting that program (a Python one: 0.13 s
    of CPU on every run); where that socket doesn't answer (fail2ban.local names another, or
    fail2ban is down), fail2ban-client, which reads fail2ban's config, is asked."""
    status = _fail2ban_status(socket_path)
    if status is None:
        try:
            proc = _run(["fail2ban-client", "status"], timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        match = re.search(r"Jail list:(.*)", proc.stdout)
        if proc.returncode != 0 or not match:
            return None
        status = match.group(1)
    return [jail.strip() for jail in status.split(",") if jail.strip()]


# The opcodes of plain data (strings, numbers, tuples, lists, dicts, sets and the memo): nothing that
# names or calls code (GLOBAL, REDUCE, BUILD, OBJ, INST, NEWOBJ, the copyreg registry's EXT codes,
# persistent ids), which an Unpickler's find_class alone does not all catch.
_PLAIN_OPCODES = frozenset((
    "PROTO", "FRAME", "STOP", "MARK", "POP", "POP_MARK", "DUP", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET",
    "LONG_BINGET", "NONE", "NEWTRUE", "NEWFALSE", "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT",
    "BINFLOAT", "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_LIST", "LIST",
    "APPEND", "APPENDS", "EMPTY_DICT", "DICT", "SETITEM", "SETITEMS", "EMPTY_SET", "ADDITEMS", "FROZENSET",
))


def plain_data(payload: bytes):
    """A pickle of plain data, loaded; ValueError for any other (checked opcode by opcode before loading,
    which also refuses a length the payload doesn't hold before anything is allocated for it)."""
    for opcode, _arg, _pos in pickletools.genops(payload):
        if opcode.name not in _PLAIN_OPCODES:
            raise ValueError(f"{opcode.name} is not plain data")
    return pickle.loads(payload)


def _fail2ban_status(path: str) -> str | None:
    """The "Jail list" of fail2ban's status, from its socket: only a socket of root's, in a directory
    only root can write, whose server runs as root; None otherwise or when it doesn't answer."""
    try:
        st, parent = os.lstat(path), os.lstat(os.path.dirname(path))
    except OSError:
        return None
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != 0 or parent.st_uid != 0 or parent.st_mode & 0o022:
        return None
    data = b""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(path)
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            if struct.unpack("3i", creds)[1] != 0:
                return None
            sock.sendall(pickle.dumps(["status"], protocol=4) + _F2B_END)
            while not data.endswith(_F2B_END) and len(data) < 1 << 20:
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                data += chunk
            sock.sendall(_F2B_CLOSE + _F2B_END)
        code, pairs = plain_data(data[: -len(_F2B_END)])
        listed = dict(pairs)["Jail list"] if code == 0 else None
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, AttributeError, MemoryError):
        return None
    return listed if isinstance(listed, str) else None


def protected_symlinks(path: str = "/proc/sys/fs/protected_symlinks") -> int:
    """The kernel's fs.protected_symlinks: with 1, nobody follows a link in a sticky world-writable
    directory that another user made (the reverse proxy's socket directory relies on it); -1 when
    it can't be read."""
    try:
        with open(path, encoding="ascii") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return -1


_UNIT_PROPERTIES = "ActiveState,UnitFileState,NeedDaemonReload,MainPID,ExecMainStartTimestampMonotonic"


def services(names: list[str]) -> dict[str, dict]:
    """Each unit's properties (of ``service``), in one systemctl call: it prints one block per unit
    named, in order, units it doesn't know included."""
    proc = _run(["systemctl", "show", f"--property={_UNIT_PROPERTIES}"] + [name + ".service" for name in names])
    blocks = proc.stdout.split("\n\n") if proc.returncode == 0 else []
    found = {name: {} for name in names}
    if len(blocks) == len(names):
        for name, block in zip(names, blocks):
            found[name] = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
    return found


def service(props: dict, restart_files: list[str]) -> dict:
    """A unit's state from its properties (``services``), and whether its running process predates
    files it reads: a restart that an earlier run wrote the files for but never made (it failed, or
    was cut off first)."""
    active = props.get("ActiveState") == "active"
    answer = {
        "active": active,
        "enabled": props.get("UnitFileState") == "enabled",
        "main_pid": int(props.get("MainPID") or 0),
        "restart_pending": False,
        "restart_reasons": [],
    }
    if not active:
        return answer
    reasons = []
    if props.get("NeedDaemonReload") == "yes":
        reasons.append("the unit file changed since systemd loaded it")
    started_monotonic = int(props.get("ExecMainStartTimestampMonotonic") or 0) / 1e6
    if started_monotonic:
        started = time.time() - (time.monotonic() - started_monotonic)
        for path in restart_files:
            try:
                if os.lstat(path).st_mtime > started:
                    reasons.append(f"{path} changed after the server started")
            except OSError:
                continue
    answer.update(restart_pending=bool(reasons), restart_reasons=reasons)
    return answer


_UNIT_ENV = re.compile(r"^Environment=(JUPYTER_CONFIG_DIR|HOME)=(\S+)$", re.M)


def instances(unit_dir: str = "/etc/systemd/system") -> list[dict]:
    """The servers this role runs on the host, read from their units (the role's units set
    JUPYTER_CONFIG_DIR) and configs: service, config dir, venv, home, root dir, user, port. What
    two instances must never share is compared against this list."""
    found = []
    for unit in sorted(glob.glob(os.path.join(unit_dir, "*.service"))):
        try:
            with open(unit, encoding="utf-8") as fh:
                text = fh.read(65536)
        except (OSError, UnicodeDecodeError):
            continue
        env = dict(_UNIT_ENV.findall(text))
        start = re.search(r"^ExecStart=(\S+)/bin/jupyter-notebook$", text, re.M)
        if "JUPYTER_CONFIG_DIR" not in env or not start:
            continue
        fields = {key: (re.search(rf"^{key}=(\S+)$", text, re.M) or [None, ""])[1] for key in ("User", "WorkingDirectory")}
        config_dir = env["JUPYTER_CONFIG_DIR"]
        found.append({
            "service": os.path.basename(unit)[: -len(".service")],
            "config_dir": config_dir,
            "venv": start.group(1),
            "home": env.get("HOME", ""),
            "root_dir": fields["WorkingDirectory"],
            "user": fields["User"],
            # Behind a proxy the server has a socket and no port; the unit's Description names
            # the port users reach (nginx's).
            "port": _configured_port(config_dir) or _described_port(text),
        })
    return found


def _described_port(unit_text: str) -> int:
    described = re.search(r"^Description=.*:(\d+)\)$", unit_text, re.M)
    return int(described.group(1)) if described else 0


def _configured_port(config_dir: str) -> int:
    for name, section in (("jupyter_server_config.json", "ServerApp"), ("jupyter_notebook_config.json", "NotebookApp")):
        try:
            with open(os.path.join(config_dir, name), encoding="utf-8") as fh:
                return int(json.load(fh).get(section, {}).get("port", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            continue
    return 0


def kernels(venvs_dir: str, specs_dir: str, python: list[dict], names: list[str], installer: str = "uv",
            uv_version: str = "") -> dict:
    """The extra kernels: each wanted Python kernel's venv, read like the server's (what it holds
    and the install plan), and the kernel venvs and kernelspecs on disk no longer wanted. Both
    directories are root's (the role makes them); entries are listed, never followed."""
    from . import _venv  # pylint: disable=import-outside-toplevel

    venvs = {}
    for kernel in python:
        venvs[kernel["name"]] = _venv.read(os.path.join(venvs_dir, kernel["name"]), installer,
                                           list(kernel.get("requirements") or []), uv_version)
    stale = []
    for directory in (venvs_dir, specs_dir):
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        stale += [os.path.join(directory, entry) for entry in entries if entry not in names]
    return {"venvs": venvs, "stale": stale}
