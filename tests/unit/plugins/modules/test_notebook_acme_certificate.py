# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_acme_certificate before certbot: a directory that doesn't answer is
refused with a message naming notebook_acme_directory, and nothing is asked or written; check
mode reports the reasons and asks nothing."""

from __future__ import annotations

import os
import socket

from ansible_collections.nbops.jupyter.plugins.modules import notebook_acme_certificate

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import run_module


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def args(tmp_path, directory):
    return {"name": "nbops-unit-test-lineage", "names": ["localhost"], "directory": directory,
            "config": str(tmp_path / "cli.ini"), "deploy_hook": str(tmp_path / "hook"), "tls_dir": str(tmp_path / "tls")}


def test_an_unreachable_directory_is_refused_naming_it_and_nothing_changes(tmp_path):
    directory = f"https://127.0.0.1:{_closed_port()}/dir"
    answer = run_module(notebook_acme_certificate, args(tmp_path, directory))
    assert answer["failed"] and "notebook_acme_directory" in answer["msg"] and directory in answer["msg"]
    assert "keeps serving" in answer["msg"] and answer["reasons"] == ["certificate or key missing"]
    assert os.listdir(tmp_path) == []


def test_check_mode_reports_and_asks_nothing(tmp_path):
    answer = run_module(notebook_acme_certificate, args(tmp_path, f"https://127.0.0.1:{_closed_port()}/dir"), check_mode=True)
    assert not answer.get("failed") and answer["changed"] and answer["reasons"] == ["certificate or key missing"]
    assert answer["deployed"] is False and os.listdir(tmp_path) == []
