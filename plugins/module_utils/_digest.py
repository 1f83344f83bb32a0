# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""The sha256 of an open file, read in blocks (wheels run to tens of megabytes).

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import hashlib


def sha256_of(fh) -> str:
    """Hex sha256 of what is left to read in the binary file object ``fh``."""
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()
