# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""What a virtualenv holds, what an install must do to it, and the install itself.

What is installed is read from the venv's ``*.dist-info`` directories (their names, or their
METADATA): no interpreter of the venv runs, no network is asked. Requirements are checked with
``packaging`` (the host's, or the copy every Jupyter venv holds, since jupyter_server needs it).

Whether the last install finished is kept in two files beside ``bin/``:

* ``.nbops-install-complete``: the last install into this venv finished;
* ``.nbops-install-started``: written just before an installer runs, with what the venv held,
  removed when it ends.

An installer that fails while resolving or downloading has written nothing: the venv still
holds what it held and the complete marker stays, so the next run does not reinstall. Only a
venv that differs from its snapshot, or lost files its ``RECORD`` lists, counts as cut off
mid-write, and is installed again in full.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import glob
import json
import os
import re
import stat
import subprocess
import sys

from ._index import redact

COMPLETE = ".nbops-install-complete"
STARTED = ".nbops-install-started"


def normalize(name: str) -> str:
    """PEP 503 project name normal form."""
    return re.sub(r"[-_.]+", "-", name).lower()


def site_packages(venv: str) -> list[str]:
    return sorted(glob.glob(os.path.join(venv, "lib", "python3*", "site-packages")))


_DIST_INFO = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*)-(?P<version>[0-9][A-Za-z0-9.!+_]*)\.dist-info$")


def installed(venv: str) -> dict[str, str]:
    """{normalized name: version} of every distribution in the venv's site-packages: read from
    the *.dist-info directory names installers write (name-version, PEP 427), and from the
    METADATA of any whose name doesn't say."""
    found: dict[str, str] = {}
    for site in site_packages(venv):
        try:
            entries = os.listdir(site)
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            match = _DIST_INFO.match(entry)
            if match:
                found.setdefault(normalize(match.group("name")), match.group("version"))
                continue
            meta = _metadata(os.path.join(site, entry))
            if meta:
                found.setdefault(normalize(meta[0]), meta[1])
    return found


def _metadata(path: str) -> tuple[str, str] | None:
    """Name and Version from a METADATA (or PKG-INFO) file's headers."""
    headers = {}
    for name in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(path, name), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if not line.strip():
                        break
                    key, sep, value = line.partition(":")
                    if sep and key in ("Name", "Version"):
                        headers.setdefault(key, value.strip())
        except OSError:
            continue
        break
    return (headers["Name"], headers["Version"]) if "Name" in headers and "Version" in headers else None


def _owned_by_root(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_uid == 0 and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def requirement_class(venv: str):
    """packaging's Requirement: the host's, else the venv's own copy (root-owned venvs only:
    the module runs as root and must not import code its server could have written)."""
    try:
        from packaging.requirements import Requirement  # pylint: disable=import-outside-toplevel
        return Requirement
    except ImportError:
        pass
    for path in site_packages(venv):
        if not (_owned_by_root(venv) and _owned_by_root(path) and _owned_by_root(os.path.join(path, "packaging"))):
            continue
        sys.path.insert(0, path)
        try:
            from packaging.requirements import Requirement  # pylint: disable=import-outside-toplevel
            return Requirement
        except ImportError:
            continue
        finally:
            sys.path.remove(path)
    return None


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!+_-]+)$")


def evaluate(requirements: list[str], have: dict[str, str], venv: str) -> dict[str, dict]:
    """For each requirement: its project name, the installed version and whether that satisfies
    it (None when that can't be told here: nothing to check it with)."""
    # A bare project name needs no parser (and the role's default, "notebook", is one).
    bare = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
    requirement = requirement_class(venv) if have and not all(bare.match(spec) for spec in requirements) else None
    result = {}
    for spec in requirements:
        if bare.match(spec):
            version = have.get(normalize(spec))
            result[spec] = {"name": normalize(spec), "version": version, "satisfied": version is not None}
            continue
        pinned = _PIN.match(spec)
        if pinned and (have.get(normalize(pinned.group(1))) == pinned.group(2) or requirement is None):
            # A lock's pins (name==version, as uv writes them) need no parser: the versions uv
            # wrote in dist-info names are the ones it pinned.
            version = have.get(normalize(pinned.group(1)))
            result[spec] = {"name": normalize(pinned.group(1)), "version": version,
                            "satisfied": version == pinned.group(2)}
            continue
        if requirement is None:
            name = normalize(re.split(r"[\s\[<>=!~;@]", spec.strip(), maxsplit=1)[0])
            version = have.get(name)
            result[spec] = {"name": name, "version": version, "satisfied": False if version is None else None}
            continue
        try:
            req = requirement(spec)
        except Exception as exc:  # packaging's InvalidRequirement, from whichever copy was found
            raise ValueError(f"{spec!r} is not a PEP 508 requirement: {exc}") from None
        name = normalize(req.name)
        version = have.get(name)
        applies = req.marker is None or req.marker.evaluate()
        satisfied = (not applies) or (version is not None and req.specifier.contains(version, prereleases=True))
        result[spec] = {"name": name, "version": version, "satisfied": bool(satisfied)}
    return result


def _record_whole(venv: str) -> bool:
    """Every file each distribution's RECORD lists is there (a stat each, no hashing)."""
    for site in site_packages(venv):
        for record in glob.glob(os.path.join(site, "*.dist-info", "RECORD")):
            try:
                with open(record, encoding="utf-8") as fh:
                    for line in fh:
                        path = line.rsplit(",", 2)[0]
                        if path and not os.path.lexists(os.path.normpath(os.path.join(site, path))):
                            return False
            except OSError:
                return False
    return True


def install_complete(venv: str, have: dict[str, str] | None = None) -> bool:
    """The last install finished, or stopped before it wrote anything."""
    if not os.path.exists(os.path.join(venv, COMPLETE)):
        return False
    started = os.path.join(venv, STARTED)
    if not os.path.exists(started):
        return True
    try:
        with open(started, encoding="utf-8") as fh:
            before = json.load(fh)["before"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (installed(venv) if have is None else have) == before and _record_whole(venv)


def whole(venv: str, installer: str) -> bool:
    """A usable venv: uv needs only its python, pip its own pip (ensurepip ran)."""
    return os.path.exists(os.path.join(venv, "bin", "python" if installer == "uv" else "pip"))


def uv_release(venv: str) -> str | None:
    uv = os.path.join(venv, "bin", "uv")
    if not os.access(uv, os.X_OK):
        return None
    proc = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False)
    words = proc.stdout.split()
    return words[1] if proc.returncode == 0 and len(words) > 1 else None


def read(venv: str, installer: str, requirements: list[str], uv_version: str) -> dict:
    """Everything the role and the venv module decide an install on, read-only."""
    exists = whole(venv, installer)
    have = installed(venv) if exists else {}
    state = {
        "exists": exists,
        "installed": have,
        "complete": exists and install_complete(venv, have),
        "requirements": evaluate(requirements, have, venv),
        "uv_version": uv_release(venv) if installer == "uv" and exists else None,
    }
    state["plan"] = plan(state, "present", installer, uv_version)
    return state


def plan(state: dict, desired: str, installer: str, uv_version: str) -> dict:
    """What an install run does, from what ``read`` found: the one place this is decided."""
    unsatisfied = [spec for spec, info in state["requirements"].items() if not info["satisfied"]]
    # An empty venv (made, then its first install failed) has nothing to reinstall.
    reinstall = state["exists"] and not state["complete"] and bool(state["installed"])
    everything = desired == "latest" or reinstall or not state["exists"]
    fetch_uv = installer == "uv" and (state["uv_version"] is None or bool(uv_version) and state["uv_version"] != uv_version)
    install = list(state["requirements"]) if everything else unsatisfied
    return {
        "create": not state["exists"],
        "fetch_uv": fetch_uv and bool(install),
        "install": install,
        "reinstall": reinstall,
        "upgrade": desired == "latest",
    }


def installer_argv(venv: str, installer: str, steps: dict, extra_args: list[str], lock: str | None = None) -> list[str]:
    """The installer's command; with a lock file, all of it with --require-hashes (the installer
    installs what is missing and checks every file it takes against the lock)."""
    if installer == "uv":
        argv = [os.path.join(venv, "bin", "uv"), "pip", "install", "--python", os.path.join(venv, "bin", "python"),
                "--compile-bytecode"]
        argv += ["--upgrade"] if steps["upgrade"] else []
        argv += ["--reinstall"] if steps["reinstall"] else []
    else:
        argv = [os.path.join(venv, "bin", "pip"), "install", "--disable-pip-version-check", "--no-input"]
        argv += ["--upgrade"] if steps["upgrade"] else []
        argv += ["--force-reinstall"] if steps["reinstall"] else []
    if lock:
        return argv + ["--require-hashes"] + (["--no-deps"] if installer == "pip" else []) + list(extra_args) + ["-r", lock]
    return argv + list(extra_args) + list(steps["install"])


def installer_env(installer: str, index_url: str, uv_version: str | None = None) -> dict:
    """The credentials-bearing index URL travels here, never in argv."""
    env = dict(os.environ)
    if installer == "uv":
        # Trust the system CA store (where admins add a proxy's CA), as pip does with its cert
        # setting; uv 0.13 renamed the switch and warns about the old one.
        modern = uv_version is None or tuple(int(p) for p in re.findall(r"\d+", uv_version)[:2]) >= (0, 13)
        env.update(UV_NO_PROGRESS="1", NO_COLOR="1")
        env["UV_SYSTEM_CERTS" if modern else "UV_NATIVE_TLS"] = "1"
        if index_url:
            env["UV_INDEX_URL"] = index_url
    else:
        env.update(PIP_NO_COLOR="1", PIP_PROGRESS_BAR="off")
        if index_url:
            env["PIP_INDEX_URL"] = index_url
    return env


def tail(text: str, lines: int = 40) -> list[str]:
    return [redact(line) for line in text.splitlines()[-lines:]]


def write_started(venv: str, before: dict[str, str]) -> None:
    path = os.path.join(venv, STARTED)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"before": before}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def finish(venv: str, ok: bool, before: dict[str, str], after: dict[str, str]) -> None:
    """After the installer: the markers say whether the venv is whole (see the module doc)."""
    complete = os.path.join(venv, COMPLETE)
    if ok:
        if after != before or not os.path.exists(complete):
            with open(complete, "w", encoding="ascii"):
                pass
    elif after != before or not _record_whole(venv):
        if os.path.exists(complete):
            os.unlink(complete)
    started = os.path.join(venv, STARTED)
    if os.path.exists(started):
        os.unlink(started)
