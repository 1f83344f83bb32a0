# SPDX-License-Identifier: GPL-3.0-or-later
"""The server under test is given by the environment (molecule's verify and `make demo` set it):
NB_URL (https://127.0.0.1:PORT/), NB_PASSWORD, NB_CA (a PEM file to trust, empty for none),
NB_HOST (the container), NB_EXPECT_MAJOR (6 or 7); NB_RELAY_CONTAINER instead of NB_URL for a
container without network."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from nbclient import NotebookClient  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "one_platform(host): runs on one host of the scenario (host 0 or 1 of NB_HOST_COUNT): what it "
        "proves is the role's own logic, the same on every Debian release, and it takes minutes of converges")


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    """Spread the slow platform-independent tests over a scenario's hosts, which verify at the same
    time: each runs once, on the host its marker names. Without NB_HOST_COUNT (one server), all run."""
    count = int(os.environ.get("NB_HOST_COUNT", "1"))
    index = int(os.environ.get("NB_HOST_INDEX", "0"))
    for item in items:
        marker = item.get_closest_marker("one_platform")
        if marker and count > 1 and marker.args[0] % count != index:
            item.add_marker(pytest.mark.skip(
                reason=f"platform-independent: host {marker.args[0] % count} of this scenario runs it"))


def _env(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        pytest.skip(f"{name} is not set: these tests run against a deployed server (molecule verify)")
    return value


@pytest.fixture(scope="session")
def server():
    # A container without network (the offline scenario): through a relay over `docker exec`.
    container = os.environ.get("NB_RELAY_CONTAINER")
    if container:
        from relay import DockerRelay  # pylint: disable=import-outside-toplevel
        relay = DockerRelay(container, int(os.environ.get("NB_PORT", "8888")))
    return {
        "url": f"https://127.0.0.1:{relay.port}/" if container else _env("NB_URL"),
        "password": _env("NB_PASSWORD"),
        "ca": os.environ.get("NB_CA") or None,
        "host": os.environ.get("NB_HOST", ""),
        "major": int(os.environ.get("NB_EXPECT_MAJOR", "7")),
        "port": int(os.environ.get("NB_PORT", "8888")),
    }


@pytest.fixture
def client(server):
    return NotebookClient(server["url"], server["ca"])


@pytest.fixture
def logged_in(server, client):
    response = client.login(server["password"])
    assert response.status_code == 302, f"login answered {response.status_code}"
    return client


@pytest.fixture
def host(server):
    if not server["host"]:
        pytest.skip("NB_HOST is not set: host-side checks need the container's name")
    return server["host"]


@pytest.fixture(scope="session")
def paths():
    config = os.environ.get("NB_CONFIG_DIR", "/etc/jupyter-notebook")
    mode = os.environ.get("NB_TLS_MODE", "self_signed")
    tls = f"{config}/tls/live"
    return {
        "config": config,
        "service": os.environ.get("NB_SERVICE", "jupyter-notebook"),
        "tls_mode": mode,
        "cert": f"{tls}/cert.pem",
        "key": f"{tls}/key.pem",
    }
