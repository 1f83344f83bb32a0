# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""subjectAltName entries in one normal form, so wanted and deployed names compare as sets.

openssl prints IPv6 addresses expanded ("0:0:0:0:0:0:0:1") and DNS names as given; hosts report
addresses compressed. Both sides go through the same normalisation: "DNS:<lowercase name>" and
"IP:<address as Python's ipaddress prints it>", sorted, without duplicates.
"""

from __future__ import annotations

import ipaddress
import re

_DNS_NAME = re.compile(r"^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$")


def _entry(kind: str, value: str) -> str:
    value = value.strip()
    if kind == "IP":
        return "IP:" + str(ipaddress.ip_address(value))
    if not _DNS_NAME.match(value):
        raise ValueError(f"{value!r} is neither an IP address nor a DNS name")
    return "DNS:" + value.rstrip(".").lower()


def entries_from_names(names: object) -> list[str]:
    """Names and addresses as a user or the host's facts give them."""
    if not isinstance(names, (list, tuple)):
        raise TypeError(f"expected a list of names, got {type(names).__name__}")
    result = set()
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"every name must be a non-empty string, got {name!r}")
        try:
            result.add(_entry("IP", name))
        except ValueError:
            result.add(_entry("DNS", name))
    return sorted(result)


def entries_from_openssl(text: object) -> list[str]:
    """The output of `openssl x509 -noout -ext subjectAltName` (empty when there is none)."""
    if not isinstance(text, str):
        raise TypeError(f"expected openssl's text output, got {type(text).__name__}")
    result = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("X509v3 Subject Alternative Name") or line.startswith("No extensions"):
            continue
        for item in line.split(","):
            kind, _sep, value = item.strip().partition(":")
            if kind == "DNS":
                result.add(_entry("DNS", value))
            elif kind == "IP Address":
                result.add(_entry("IP", value))
            else:
                # email, URI, othername: not something this collection writes; keep it verbatim
                # so the sets differ and the certificate is made again.
                result.add(item.strip())
    return sorted(result)
