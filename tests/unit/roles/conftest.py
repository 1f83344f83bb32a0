# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's host-side scripts, importable by path (they are shipped as files, not modules)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[3] / "roles" / "notebook" / "files"


def load(name):
    spec = importlib.util.spec_from_file_location(name, FILES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fetch_uv():
    return load("fetch_uv")


@pytest.fixture(scope="session")
def host_state():
    return load("host_state")


@pytest.fixture(scope="session")
def install_venv():
    return load("install_venv")
