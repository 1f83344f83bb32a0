# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""The uv binary, taken from the uv wheel for this machine on a package index or in a
find-links location, so a uv host needs neither pip nor Debian's python3-venv.

An index must be https and must give the wheel's sha256 (PEP 503 ``#sha256=`` or PEP 691
``hashes``): without one this is an error, never an unchecked binary for root to run. A wheel in a
local find-links directory (a wheelhouse the administrator filled) is taken as it is.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import hashlib
import html.parser
import io
import json
import os
import platform
import re
import tempfile
import urllib.parse
import zipfile

from ansible.module_utils.urls import open_url

from ._index import Sources, authorization, check_https, redact, split_credentials

# Oldest glibc each legacy manylinux tag promises to run on.
LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
ARCH = {"amd64": "x86_64", "arm64": "aarch64"}


class UvError(Exception):
    """Why uv could not be had; never carries a credential."""


class Links(html.parser.HTMLParser):
    """PEP 503: one <a href="...#sha256=..."> per file; data-yanked marks a yanked one."""

    def __init__(self):
        super().__init__()
        self.files: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            url, _sep, fragment = attrs["href"].partition("#")
            hashes = dict([fragment.split("=", 1)]) if "=" in fragment else {}
            self.files.append({"url": url, "filename": url.rsplit("/", 1)[-1], "hashes": hashes,
                               "yanked": "data-yanked" in attrs})


def platform_tags() -> tuple[str, tuple[int, int]]:
    machine = platform.machine()
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    if not libc.startswith("glibc "):
        raise UvError("uv wheels need glibc; set notebook_installer: pip on this host")
    return ARCH.get(machine, machine), tuple(int(part) for part in libc.split()[1].split(".")[:2])


def supported(filename: str, arch: str, glibc: tuple[int, int]) -> tuple[int, ...] | None:
    """The version of a stable uv wheel whose manylinux tag runs on this glibc and CPU, else None."""
    match = re.fullmatch(r"uv-(\d+(?:\.\d+)*)-py3-none-([\w.]+)\.whl", filename)
    if not match:
        return None
    for tag in match.group(2).split("."):
        legacy = re.fullmatch(r"(manylinux\d+)_" + re.escape(arch), tag)
        modern = re.fullmatch(r"manylinux_(\d+)_(\d+)_" + re.escape(arch), tag)
        needs = LEGACY.get(legacy.group(1)) if legacy else (int(modern.group(1)), int(modern.group(2))) if modern else None
        if needs and needs <= glibc:
            return tuple(int(part) for part in match.group(1).split("."))
    return None


def _open(url: str, accept: str, timeout: float):
    clean, _credentials = split_credentials(url)
    headers = {"Accept": accept, "User-Agent": "nbops.jupyter"}
    headers.update(authorization(url))
    try:
        # Certificates checked against the system's trust store; proxies from the environment.
        # The index's credentials are never sent on to where it redirects (a CDN, object storage).
        return open_url(clean, headers=headers, timeout=timeout, validate_certs=True, force_basic_auth=False, use_netrc=False,
                        follow_redirects="safe", unredirected_headers=["Authorization"])
    except Exception as exc:  # open_url raises URLError, HTTPError, SSLValidationError, ConnectionError, ...
        raise UvError(f"could not fetch {redact(url)}: {redact(str(exc))}") from None


def index_files(index: str, timeout: float = 60) -> list[dict]:
    """Every uv file a simple index lists, with absolute URLs, hashes and yank marks."""
    return page_files(index.rstrip("/") + "/uv/", index, timeout)


def page_files(page: str, index: str, timeout: float = 60) -> list[dict]:
    """The files a PEP 503/691 page (or a find-links page) links to."""
    with _open(page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1", timeout) as response:
        body = response.read().decode("utf-8")
        final = response.geturl()
        is_json = "json" in response.headers.get("Content-Type", "")
    if is_json:
        files = json.loads(body)["files"]
    else:
        parser = Links()
        parser.feed(body)
        files = parser.files
    # The credentials of the index go to its own files only (same scheme and host).
    clean_index, credentials = split_credentials(index)
    index_origin = urllib.parse.urlsplit(clean_index)[:2]
    for item in files:
        item["url"] = urllib.parse.urljoin(final, item["url"])
        if credentials and urllib.parse.urlsplit(item["url"])[:2] == index_origin:
            user, password = (urllib.parse.quote(part, safe="") for part in credentials)
            parts = urllib.parse.urlsplit(item["url"])
            item["url"] = urllib.parse.urlunsplit((parts.scheme, f"{user}:{password}@{parts.netloc}",
                                                   parts.path, parts.query, ""))
        item["source"] = "index"
    return files


def directory_files(path: str) -> list[dict]:
    return [{"url": os.path.join(path, name), "filename": name, "hashes": {}, "yanked": False, "source": "directory"}
            for name in sorted(os.listdir(path)) if name.startswith("uv-")]


def choose(files: list[dict], arch: str, glibc: tuple[int, int], wanted: str) -> tuple[tuple[int, ...], dict] | None:
    exact = tuple(int(part) for part in wanted.split(".")) if wanted else None
    candidates = []
    for item in files:
        if item.get("yanked"):
            continue
        version = supported(item["filename"], arch, glibc)
        if version and (exact is None or version == exact):
            candidates.append((version, item))
    return max(candidates, key=lambda pair: pair[0]) if candidates else None


def _read(item: dict, timeout: float) -> bytes:
    if item["source"] == "directory":
        with open(item["url"], "rb") as fh:
            return fh.read()
    with _open(item["url"], "application/octet-stream", timeout) as response:
        return response.read()


def fetch(dest: str, sources: Sources, wanted: str = "", timeout: float = 300) -> dict:
    """Write the uv binary to ``dest`` (atomically) and return {version, wheel, source}."""
    arch, glibc = platform_tags()
    sources.check()
    found = None
    looked = []
    for location in sources.find_links:
        looked.append(location)
        if "://" in location:
            files = page_files(location, location, timeout)
        elif os.path.isdir(location):
            files = directory_files(location)
        else:
            continue
        found = choose(files, arch, glibc, wanted)
        if found:
            break
    if not found:
        for index in sources.indexes():
            looked.append(redact(index))
            found = choose(index_files(index, timeout), arch, glibc, wanted)
            if found:
                break
    if found is None:
        release = f"uv {wanted}" if wanted else "uv"
        raise UvError(f"no {release} wheel for {arch} with glibc {glibc[0]}.{glibc[1]} in {', '.join(looked) or 'no source'}; "
                      "set notebook_uv_version to a release these sources have, or notebook_installer: pip on this host")
    version, wheel = found[0], found[1]
    if wheel["source"] != "directory":
        check_https(wheel["url"], "The uv wheel's URL")
    expected = wheel.get("hashes", {}).get("sha256")
    if wheel["source"] != "directory" and not expected:
        raise UvError(f"{redact(wheel['url'])} comes with no sha256 from its index; an unchecked binary is not "
                      "installed for root to run. Use an index that publishes hashes (PEP 503/691).")
    data = _read(wheel, timeout)
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise UvError(f"sha256 of {wheel['filename']} does not match its index")
    dotted = ".".join(map(str, version))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        binary = archive.read(f"uv-{dotted}.data/scripts/uv")
    # Written beside the destination and renamed: a cut-off run leaves no half binary.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".uv.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(binary)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {"version": dotted, "wheel": wheel["filename"], "source": wheel["source"]}
