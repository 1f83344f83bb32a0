# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Certificates from an ACME directory through Debian's certbot: what certbot holds for the
server (its lineage in ``/etc/letsencrypt/live/<name>``), whether it must ask again, whether the
pair the server reads is certbot's current one, and how the unattended renewals went.

certbot keeps the lineage and renews it from its own systemd timer; a deploy hook the role
writes puts each new pair live the way the role puts every pair live (a generation of its own
and one rename). The host reader and the certificate module decide with the same function.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import tempfile
import urllib.error

from ansible.module_utils.urls import open_url

from . import _tls

ROOT = "/etc/letsencrypt"


def renewal_server(name: str, root: str = ROOT) -> str:
    """The directory URL certbot renews the lineage from (its renewal config), or ''."""
    try:
        with open(os.path.join(root, "renewal", name + ".conf"), encoding="utf-8") as fh:
            match = re.search(r"^server\s*=\s*(\S+)", fh.read(), re.M)
    except OSError:
        return ""
    return match.group(1) if match else ""


def _systemctl_show(unit: str, props: str) -> dict:
    try:
        proc = subprocess.run(["systemctl", "show", f"--property={props}", unit], capture_output=True, text=True,
                              check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def directory_problem(url: str, ca_pem: str | None = None) -> str:
    """'' when ``url`` answers like an ACME directory (trusting ``ca_pem`` when given), else why not."""
    with tempfile.NamedTemporaryFile("w", encoding="ascii", suffix=".pem") as bundle:
        if ca_pem:
            bundle.write(ca_pem)
            bundle.flush()
        try:
            response = open_url(url, timeout=20, validate_certs=True, ca_path=bundle.name if ca_pem else None,
                                http_agent="nbops.jupyter host reader")
            body = response.read(65536).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError, ssl.SSLError) as exc:
            return f"{exc.__class__.__name__}: {getattr(exc, 'reason', exc)}"
    if '"newOrder"' not in body:
        return "it answers, but not with an ACME directory (no newOrder)"
    return ""


def unresolved(names: list[str]) -> list[str]:
    """The names this host can't resolve (HTTP-01 can't validate them from anywhere either)."""
    missing = []
    for name in names:
        try:
            socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            missing.append(name)
    return missing


def inspect(name: str, names: list[str], directory: str, key_type: str, rsa_bits: int, renew_days: int,
            live_cert: str, root: str = ROOT, ca_pem: str | None = None, probe: bool = True) -> dict:
    """The lineage's state and the reasons to ask the directory again; ``deploy_needed`` when
    the live pair is not certbot's current one; ``renewal`` how certbot's timer and its last
    unattended run stand. When it must ask, also whether it can: ``directory_problem`` and
    ``unresolved`` names, so bad input is refused before anything changes."""
    lineage = os.path.join(root, "live", name)
    found = _tls.inspect(os.path.join(lineage, "fullchain.pem"), os.path.join(lineage, "privkey.pem"), renew_days * 86400)
    reasons = _tls.renewal_reasons(found, names, key_type, rsa_bits, any_issuer=True)
    if found["state"] in ("valid", "expiring") and renewal_server(name, root) != directory:
        reasons.append("another ACME directory")
    service = _systemctl_show("certbot.service", "Result,ExecMainExitTimestamp,ExecMainStatus")
    timer = _systemctl_show("certbot.timer", "ActiveState,UnitFileState")
    missing = unresolved(names) if reasons and probe else []
    # Names that don't resolve are the answer already: the directory is not asked about them.
    answer_problem = directory_problem(directory, ca_pem) if reasons and probe and not missing else ""
    return {
        "state": found["state"],
        "reasons": reasons,
        "directory_problem": answer_problem,
        "unresolved": missing,
        "names": found.get("names", []),
        "not_after": found.get("not_after", ""),
        "deploy_needed": not reasons and found.get("file_sha256", "") != (_tls.file_sha256(live_cert) if os.path.isfile(live_cert) else ""),
        "renewal": {
            "timer_active": timer.get("ActiveState") == "active",
            "timer_enabled": timer.get("UnitFileState") == "enabled",
            "last_failed": service.get("Result", "success") not in ("success", ""),
            "last_run": service.get("ExecMainExitTimestamp", ""),
            "last_status": service.get("ExecMainStatus", ""),
        },
    }
