# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_wheels: the wheels a host's root-only cache lacks, picked for its glibc."""

from __future__ import annotations

import hashlib
import os

from ansible_collections.nbops.jupyter.plugins.modules import notebook_wheels
from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import run_module


def _wheel(name: str, data: bytes) -> dict:
    return {"filename": name, "sha256": hashlib.sha256(data).hexdigest()}


def test_glibc_and_cpu_pick_the_candidate():
    assert notebook_wheels.fits("a-1-py3-none-any.whl", "x86_64", (2, 17))
    assert notebook_wheels.fits("a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "x86_64", (2, 36))
    assert not notebook_wheels.fits("a-1-cp311-cp311-manylinux_2_39_x86_64.whl", "x86_64", (2, 36))
    assert not notebook_wheels.fits("a-1-cp311-cp311-manylinux_2_17_aarch64.whl", "x86_64", (2, 36))


def test_missing_then_cached_then_a_tampered_file_is_removed(tmp_path):
    cache = tmp_path / "cache" / "wheels"
    wheels = [{"name": "a", "candidates": [_wheel("a-1-py3-none-any.whl", b"A")]}]
    args = {"path": str(cache), "wheels": wheels}
    predicted = run_module(notebook_wheels, args, check_mode=True)
    assert predicted["changed"] and predicted["missing"] == ["a-1-py3-none-any.whl"] and not cache.exists()
    first = run_module(notebook_wheels, args)
    assert first["changed"] and first["missing"] == ["a-1-py3-none-any.whl"]
    assert (os.stat(cache).st_mode & 0o777) == 0o755
    (cache / "a-1-py3-none-any.whl").write_bytes(b"A")
    second = run_module(notebook_wheels, args)
    assert not second["changed"] and second["missing"] == []
    (cache / "a-1-py3-none-any.whl").write_bytes(b"evil")
    third = run_module(notebook_wheels, args)
    assert third["changed"] and third["missing"] == ["a-1-py3-none-any.whl"]
    assert not (cache / "a-1-py3-none-any.whl").exists()


def test_a_file_others_can_write_is_not_trusted(tmp_path):
    cache = tmp_path / "wheels"
    wheels = [{"name": "a", "candidates": [_wheel("a-1-py3-none-any.whl", b"A")]}]
    run_module(notebook_wheels, {"path": str(cache), "wheels": wheels})
    (cache / "a-1-py3-none-any.whl").write_bytes(b"A")
    os.chmod(cache / "a-1-py3-none-any.whl", 0o666)
    assert run_module(notebook_wheels, {"path": str(cache), "wheels": wheels})["missing"] == ["a-1-py3-none-any.whl"]


def test_no_candidate_for_this_host_names_the_package(tmp_path):
    wheels = [{"name": "pyzmq", "version": "27", "candidates": [_wheel("pyzmq-27-cp311-cp311-manylinux_2_99_x86_64.whl", b"Z")]}]
    result = run_module(notebook_wheels, {"path": str(tmp_path / "w"), "wheels": wheels})
    assert result["failed"] and "pyzmq 27" in result["msg"] and "notebook_wheelhouse" in result["msg"]
    assert not (tmp_path / "w").exists()
