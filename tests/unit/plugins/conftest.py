# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the plugins' tests: a package index served over HTTPS on 127.0.0.1 (trusted
through SSL_CERT_FILE, as a company CA would be) and a uv wheel made from the real uv binary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import Index, build_wheel


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A certificate for 127.0.0.1 that verifies strictly as its own trust anchor."""
    directory = tmp_path_factory.mktemp("index-tls")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout", directory / "key.pem", "-out", directory / "cert.pem",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "extendedKeyUsage=serverAuth"], check=True, capture_output=True)
    return directory / "cert.pem", directory / "key.pem"


@pytest.fixture
def index(tls_files, monkeypatch):
    # Trusted as a company CA would be; and this machine's own pip settings (extra indexes,
    # find-links) kept out of the installers the tests run.
    for variable in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(tls_files[0]))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    served = Index(tls_files)
    yield served
    served.server.shutdown()


@pytest.fixture(scope="session")
def uv_wheel(tmp_path_factory):
    """A uv wheel for this machine made from the real uv binary of the test venv."""
    binary = shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")
    if not binary:
        pytest.skip("no uv binary on the controller (requirements/test.txt installs one)")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    return build_wheel(tmp_path_factory.mktemp("uv"), "uv", version, scripts={"uv": Path(binary).read_bytes()}), version
