# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""TLS 1.2 cipher names, checked one by one with OpenSSL through Python's ssl module.

OpenSSL accepts a cipher list as long as one entry matches something and drops the rest without
a word; a name it doesn't know must be found before it reaches a server.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import ssl


def unknown_ciphers(names: object) -> list[str]:
    """The entries of ``names`` that are not exactly one OpenSSL TLS 1.2 cipher name."""
    if not isinstance(names, (list, tuple)):
        raise TypeError(f"expected a list of cipher names, got {type(names).__name__}")
    return [str(name) for name in names if not (isinstance(name, str) and _known(name))]


def _known(name: str) -> bool:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.set_ciphers(name)
    except ssl.SSLError:
        return False
    # A name matches itself only; an alias ("HIGH") or a list would match several.
    offered = {cipher["name"] for cipher in context.get_ciphers() if cipher.get("protocol") != "TLSv1.3"}
    return offered == {name}
