# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Package index addresses: credentials kept out of argv, output and errors.

An index URL may carry ``user:token@``. Process arguments are world-readable in /proc, so the
URL reaches uv and pip only through their environment (``UV_INDEX_URL``, ``PIP_INDEX_URL``;
/proc/PID/environ is readable by the process owner only), and the uv download sends the
credentials as an Authorization header. Every message shows the URL with the credentials
replaced by ``***``.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import base64
import netrc
import os
import re
import shlex
from urllib.parse import unquote, urlsplit, urlunsplit

PYPI = "https://pypi.org/simple"
# Greedy up to the last "@" before the path, as urlsplit reads it: a password may hold a raw "@".
_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<cred>[^/\s]+)@", re.I)


class IndexError_(ValueError):
    """A bad index setting; the message never contains a credential."""


def redact(text: str) -> str:
    """``scheme://user:token@host`` -> ``scheme://***@host`` wherever it occurs in ``text``."""
    return _CREDENTIALS.sub(lambda m: m.group("scheme") + "***@", text)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without credentials, and (user, password) when it had some."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password or ""))


def check_https(url: str, what: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme != "https":
        raise IndexError_(
            f"{what} must be an https:// URL (got {scheme or 'no'} scheme in {redact(url)}): over plain "
            f"HTTP anybody on the path can replace the packages and binaries root installs."
        )


def authorization(url: str, netrc_file: str | None = None) -> dict:
    """Headers for a request to ``url``: its own credentials, else the netrc entry for its host."""
    clean, credentials = split_credentials(url)
    if credentials is None:
        host = urlsplit(clean).hostname
        path = netrc_file or os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
        try:
            entry = netrc.netrc(path).authenticators(host) if host and os.path.exists(path) else None
        except (netrc.NetrcParseError, OSError):
            entry = None
        if entry and (entry[0] or entry[2]):
            credentials = (entry[0] or "", entry[2] or "")
    if credentials is None:
        return {}
    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


# pip's and uv's spellings of the options that say where packages come from.
_TAKES_VALUE = ("--index-url", "-i", "--default-index", "--extra-index-url", "--index", "--find-links", "-f")


def _option(arg: str) -> tuple[str, str | None]:
    """("--opt", value) for --opt=value, -ovalue and --opt (value None: the next word)."""
    if arg.startswith("--"):
        name, eq, value = arg.partition("=")
        return name, value if eq else None
    for short in ("-i", "-f"):
        if arg.startswith(short) and len(arg) > 2:
            return short, arg[2:].removeprefix("=")
    return arg, None


class Sources:
    """Where packages come from, read from the index URL and the extra installer arguments:
    the index (or none with --no-index), extra indexes and find-links locations."""

    def __init__(self, index_url: str = "", extra_args: list[str] | None = None):
        self.index = index_url or PYPI
        self.extra_indexes: list[str] = []
        self.find_links: list[str] = []
        self.no_index = False
        args = list(extra_args or [])
        while args:
            arg = args.pop(0)
            name, value = _option(arg)
            if name in _TAKES_VALUE and value is None:
                if not args:
                    raise IndexError_(f"{name} in notebook_pip_extra_args needs a value")
                value = args.pop(0)
            if name in ("--index-url", "-i", "--default-index"):
                self.index = value
            elif name in ("--extra-index-url", "--index"):
                self.extra_indexes.append(value)
            elif name in ("--find-links", "-f"):
                self.find_links.append(value)
            elif name == "--no-index":
                self.no_index = True

    def indexes(self) -> list[str]:
        return [] if self.no_index else [self.index] + self.extra_indexes

    def check(self) -> None:
        for url in self.indexes():
            check_https(url, "The package index")
        for location in self.find_links:
            if "://" in location:
                check_https(location, "A --find-links location")


def split_args(text: str) -> list[str]:
    """notebook_pip_extra_args as argv words."""
    return check_args(shlex.split(text))


def check_args(words: list[str]) -> list[str]:
    """Credentials in installer arguments are refused: every local user can read them in /proc."""
    for word in words:
        if _CREDENTIALS.search(word):
            raise IndexError_(
                f"notebook_pip_extra_args must not carry credentials ({redact(word)}); put them in "
                f"notebook_pip_index_url or a netrc file"
            )
    return words
