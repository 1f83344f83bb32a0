# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Lock files (hashed requirements, as ``uv pip compile --generate-hashes`` writes them) and a
wheelhouse checked against them, on the controller.

A lock names every distribution of a venv with its exact version, an environment marker where
the resolution forked (``; python_full_version < '3.12'``) and the sha256 of each file the index
had for it. For one host (its Python and CPU) this module keeps the entries whose markers apply,
and finds for each the wheel in the wheelhouse that host can install, hashing the file: a wheel
whose sha256 the lock doesn't list is an error naming the package, before anything is copied.

The wheel's glibc need (its manylinux tag) is the host's to judge: the candidates go to
``nbops.jupyter.notebook_wheels`` best first.

Private to this collection (the leading underscore). Runs on the controller only (``packaging``
comes with ansible-core).
"""

from __future__ import annotations

import os
import re

from ._digest import sha256_of
from ._venv import normalize

# sha256 of files already hashed in this process: (path, size, mtime_ns) -> hexdigest.
_HASHED: dict[tuple, str] = {}


class LockError(ValueError):
    """A lock or wheelhouse problem, worded for the user."""


def parse(text: str, source: str) -> list[dict]:
    """[{name, version, marker, hashes, line}] from a hashed requirements file; refuses anything
    that isn't an exact pin with hashes (that is what --require-hashes will insist on)."""
    entries = []
    logical = re.sub(r"\\\r?\n", " ", text)
    for number, raw in enumerate(logical.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        words = line.split()
        hashes = [w.split("=", 1)[1] for w in words if w.startswith("--hash=")]
        requirement = " ".join(w for w in words if not w.startswith("--hash="))
        spec, _sep, marker = requirement.partition(";")
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([A-Za-z0-9.!+_-]+)", spec.strip())
        if not match:
            raise LockError(f"{source}: line {number} ({spec.strip()[:60]!r}) is not an exact pin (name==version); "
                            "make the lock with playbooks/lock.yml (uv pip compile --generate-hashes)")
        sha = [h.split(":", 1)[1] for h in hashes if h.startswith("sha256:")]
        if not sha:
            raise LockError(f"{source}: {match.group(1)} has no --hash=sha256:...; make the lock with --generate-hashes")
        entries.append({"name": normalize(match.group(1)), "version": match.group(3), "marker": marker.strip(),
                        "hashes": sha, "line": requirement.strip()})
    return entries


def environment(python_version: str, machine: str) -> dict:
    """PEP 508 marker values of a Debian host with CPython ``python_version`` (x.y.z) on ``machine``."""
    parts = python_version.split(".")
    return {"python_version": ".".join(parts[:2]), "python_full_version": python_version,
            "implementation_version": python_version, "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
            "os_name": "posix", "platform_machine": machine, "platform_release": "", "platform_version": ""}


def applying(entries: list[dict], env: dict) -> list[dict]:
    from packaging.markers import Marker  # pylint: disable=import-outside-toplevel
    return [e for e in entries if not e["marker"] or Marker(e["marker"]).evaluate(env)]


def unmet(entries: list[dict], requirements: list[str], env: dict) -> list[str]:
    """The requirements the lock's pins for this environment don't satisfy (the lock is stale)."""
    from packaging.requirements import Requirement  # pylint: disable=import-outside-toplevel
    pins = {e["name"]: e["version"] for e in entries}
    missing = []
    for spec in requirements:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        version = pins.get(normalize(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            missing.append(spec)
    return missing


def supported_tags(env: dict, glibc_minor: int = 99) -> list:
    """The wheel tags CPython of ``env`` accepts on manylinux up to glibc 2.``glibc_minor`` (by
    default any: the host judges that, see notebook_wheels)."""
    from packaging import tags  # pylint: disable=import-outside-toplevel
    version = tuple(int(p) for p in env["python_version"].split("."))
    arch = env["platform_machine"]
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 4, -1)]
    platforms += [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}", f"linux_{arch}"]
    return list(tags.cpython_tags(version, platforms=platforms)) + list(tags.compatible_tags(version, platforms=platforms))


def sha256(path: str) -> str:
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _HASHED:
        with open(path, "rb") as fh:
            _HASHED[key] = sha256_of(fh)
    return _HASHED[key]


def wheels_for(entries: list[dict], wheelhouse: str, env: dict, source: str, files: list[str] | None = None,
               glibc_minor: int = 99, missing_ok: bool = False) -> list[dict]:
    """Per entry, its wheels in the wheelhouse this Python and CPU can install, best first, each
    hashed and checked against the lock: [{name, version, candidates: [{filename, sha256}]}].
    With ``missing_ok`` an entry without a wheel has no candidates instead of being an error."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename  # pylint: disable=import-outside-toplevel
    rank = {tag: index for index, tag in enumerate(supported_tags(env, glibc_minor))}
    by_pin: dict[tuple, list] = {}
    for filename in files if files is not None else sorted(os.listdir(wheelhouse)):
        if not filename.endswith(".whl"):
            continue
        try:
            name, version, _build, wheel_tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            continue
        best = min((rank[t] for t in wheel_tags if t in rank), default=None)
        if best is not None:
            by_pin.setdefault((normalize(str(name)), str(version)), []).append((best, filename))
    from packaging.version import Version  # pylint: disable=import-outside-toplevel
    result = []
    for entry in entries:
        found = by_pin.get((entry["name"], str(Version(entry["version"]))), [])
        if not found and missing_ok:
            result.append({"name": entry["name"], "version": entry["version"], "candidates": []})
            continue
        if not found:
            raise LockError(f"notebook_wheelhouse {wheelhouse} has no wheel of {entry['name']} {entry['version']} "
                            f"(locked in {source}) for CPython {env['python_version']} on {env['platform_machine']}; "
                            "fill it with playbooks/lock.yml for this host's Python")
        candidates = []
        for _rank, filename in sorted(found):
            digest = sha256(os.path.join(wheelhouse, filename))
            if digest not in entry["hashes"]:
                raise LockError(f"{source}: the sha256 of {filename} in notebook_wheelhouse is {digest}, which the lock "
                                f"does not list for {entry['name']} {entry['version']}; the wheel is refused. Make the "
                                "lock and the wheelhouse again with playbooks/lock.yml, or find who changed the file")
            candidates.append({"filename": filename, "sha256": digest})
        result.append({"name": entry["name"], "version": entry["version"], "candidates": candidates})
    return result


def render(entries: list[dict]) -> str:
    """The entries as a requirements file (markers already applied: none left)."""
    return "".join(f"{e['name']}=={e['version']} " + " ".join(f"--hash=sha256:{h}" for h in e["hashes"]) + "\n"
                   for e in entries)
