# SPDX-License-Identifier: GPL-3.0-or-later
"""The inputs_digest filter: what changes the digest and what doesn't."""

from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nbops.jupyter.plugins.filter import inputs_digest as module
from ansible_collections.nbops.jupyter.plugins.filter.inputs_digest import inputs_digest


def test_values_count_and_their_order_does_not():
    base = inputs_digest({"a": 1, "b": {"x": [1, 2], "y": "z"}})
    assert base == inputs_digest({"b": {"y": "z", "x": [1, 2]}, "a": 1})
    assert base != inputs_digest({"a": 2, "b": {"x": [1, 2], "y": "z"}})
    assert base != inputs_digest({"a": 1, "b": {"x": [2, 1], "y": "z"}})


def test_a_files_contents_count(tmp_path):
    cert = tmp_path / "cert.pem"
    missing = inputs_digest({}, files=[str(cert)])
    cert.write_text("one")
    one = inputs_digest({}, files=[str(cert)])
    cert.write_text("two")
    two = inputs_digest({}, files=[str(cert)])
    assert len({missing, one, two}) == 3
    # Empty entries (unset variables) are left out.
    assert inputs_digest({}, files=["", str(cert)]) == two


def test_a_directorys_listing_counts(tmp_path):
    wheels = tmp_path / "wheels"
    (wheels / "sub").mkdir(parents=True)
    (wheels / "a.whl").write_bytes(b"a")
    before = inputs_digest({}, files=[str(wheels)])
    (wheels / "sub" / "b.whl").write_bytes(b"b")
    added = inputs_digest({}, files=[str(wheels)])
    os.utime(wheels / "a.whl", ns=(1, 1))
    touched = inputs_digest({}, files=[str(wheels)])
    assert len({before, added, touched}) == 3


def test_a_read_directorys_contents_count(tmp_path):
    """A lock edited in place, its size and time kept (cp -p), counts where the directory is read; the
    listing alone (a wheelhouse, whose wheels are checked against the locks' hashes) does not see it."""
    locks = tmp_path / "locks"
    locks.mkdir()
    lock = locks / "server.txt"
    lock.write_text("notebook==7.2.0\n")
    stamp = os.stat(lock)
    listed, read = inputs_digest({}, files=[str(locks)]), inputs_digest({}, read=[str(locks)])
    lock.write_text("notebook==7.2.1\n")
    os.utime(lock, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert inputs_digest({}, files=[str(locks)]) == listed
    assert inputs_digest({}, read=[str(locks)]) != read
    assert inputs_digest({}, read=["", str(locks)]) == inputs_digest({}, read=[str(locks)])


def test_the_collections_own_files_count(monkeypatch, tmp_path):
    values = {"a": 1}
    ours = inputs_digest(values)
    (tmp_path / "roles").mkdir()
    (tmp_path / "roles" / "main.yml").write_text("- other release\n")
    monkeypatch.setattr(module, "_COLLECTION", str(tmp_path))
    module._collection_digest.cache_clear()  # pylint: disable=protected-access
    try:
        assert inputs_digest(values) != ours
    finally:
        module._collection_digest.cache_clear()  # pylint: disable=protected-access


@pytest.mark.parametrize("values, files, read", [(["a"], [], []), ({}, "path", []), ({}, [], "path")])
def test_bad_input_is_an_error(values, files, read):
    with pytest.raises(AnsibleFilterError, match="nbops.jupyter.inputs_digest"):
        inputs_digest(values, files, read)


def test_an_unreadable_path_is_a_value_not_an_error(tmp_path):
    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "gone.txt").symlink_to(tmp_path / "nowhere")
    assert inputs_digest({}, files=[str(locks)]) != inputs_digest({}, files=[str(tmp_path / "missing")])


def test_a_value_of_another_type_with_the_same_text_counts_apart():
    class Text:  # pylint: disable=too-few-public-methods
        def __str__(self):
            return "abc"

    assert inputs_digest({"hash": Text()}) != inputs_digest({"hash": "abc"})
