# SPDX-License-Identifier: GPL-3.0-or-later
"""Make `ansible_collections.nbops.jupyter` importable when pytest runs from the repo root.

`ansible-test units` runs from an ansible_collections/nbops/jupyter tree and needs none of this;
a plain `pytest tests/unit` gets the same tree as a symlink under .build/.
"""

from __future__ import annotations

import sys
from pathlib import Path

_repo = Path(__file__).resolve().parents[2]
if _repo.parent.name != "nbops" or _repo.parents[1].name != "ansible_collections":
    _root = _repo / ".build" / "collections"
    _link = _root / "ansible_collections" / "nbops" / "jupyter"
    if not _link.exists():
        _link.parent.mkdir(parents=True, exist_ok=True)
        _link.symlink_to(_repo, target_is_directory=True)
    sys.path.insert(0, str(_root))
