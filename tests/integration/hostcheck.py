# SPDX-License-Identifier: GPL-3.0-or-later
"""Look inside the deployed container (docker exec), for checks a remote client can't make."""

from __future__ import annotations

import subprocess


def run(host: str, *argv: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "exec", "-i", host, *argv], input=stdin, capture_output=True, text=True, check=check, timeout=120
    )


def sh(host: str, script: str, stdin: str | None = None, check: bool = True) -> str:
    return run(host, "/bin/bash", "-c", script, stdin=stdin, check=check).stdout
