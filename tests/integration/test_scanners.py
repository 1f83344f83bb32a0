# SPDX-License-Identifier: GPL-3.0-or-later
"""Independent scanners' verdicts on the deployed server (tests/scan): Mozilla's MDN HTTP
Observatory for the web policy, sslyze against Mozilla's TLS profile. Both print a [figure].

Runs when NB_SCAN=1 (the scanners are installed by `make scanners`, part of `make test`)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
SCAN = REPO / "tests" / "scan"
pytestmark = pytest.mark.skipif(os.environ.get("NB_SCAN") != "1", reason="NB_SCAN is not 1")


def _target(server) -> str:
    parts = urlsplit(server["url"])
    return f"{parts.hostname}:{parts.port}"


def _run(script: str, *args: str, tmp_path: Path) -> tuple[int, str, dict]:
    out = tmp_path / f"{script}.json"
    # The Observatory scans port 443 of 127.0.0.1: scans of the scenario's hosts take turns.
    with open(REPO / ".build" / "scan" / "port-443.lock", "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run([sys.executable, str(SCAN / script), *args, "--json", str(out)], capture_output=True,
                              text=True, timeout=600, check=False)
    report = json.loads(out.read_text()) if out.exists() and out.stat().st_size else {}
    return proc.returncode, proc.stdout + proc.stderr, report


def test_web_policy_as_the_observatory_grades_it(server, tmp_path):
    if (urlsplit(server["url"]).path or "/") != "/":
        pytest.skip("the Observatory grades a host's / only, where a server under a base_url answers 404 and nginx "
                    "(the proxy scenario) a redirect it does not follow (the upgrade scenario grades a provided "
                    "certificate at /)")
    rc, output, report = _run("observatory.py", "--target", _target(server), "--ca", server["ca"], "--verbose",
                              tmp_path=tmp_path)
    assert rc == 0, output
    figure = next(line for line in output.splitlines() if line.startswith("[figure]"))
    print("\n" + figure.replace("[figure]", f"[figure] {server['host']}:"))
    tests = report["tests"]
    failed = sorted(name for name, test in tests.items() if not test["pass"])
    # The one CSP finding the UI forces: JupyterLab's settings code compiles its schemas with
    # new Function, so script-src needs 'unsafe-eval' (tests/browser/CSP.md); nothing else.
    assert tests["content-security-policy"]["result"] in ("csp-implemented-with-no-unsafe", "csp-implemented-with-unsafe-eval"), output
    failed = [name for name in failed if name != "content-security-policy"]
    if os.environ.get("NB_TLS_MODE") in ("provided", "private_ca"):
        # A certificate browsers can trust by name: HSTS is on, and the grade is the best there is.
        assert report["scan"]["grade"] == "A+", output
        assert failed == [], output
    else:
        # Self-signed: HSTS is off on purpose (a browser would refuse the click-through), all else passes.
        assert failed == ["strict-transport-security"], output


def test_tls_as_sslyze_checks_it_against_mozillas_profile(server, tmp_path):
    profile = os.environ.get("NB_TLS_PROFILE", "intermediate")
    rc, output, _report = _run("tls_profile.py", "--target", _target(server), "--name", "localhost", "--ca", server["ca"],
                               "--profile", profile, tmp_path=tmp_path)
    assert rc == 0, output
    figure = next(line for line in output.splitlines() if line.startswith("[figure]"))
    print("\n" + figure.replace("[figure]", f"[figure] {server['host']}:"))
    assert figure.endswith(f"Mozilla {profile}: compliant"), output
