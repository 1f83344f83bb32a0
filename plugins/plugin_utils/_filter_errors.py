# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Turn the user-facing errors of this collection's helpers into AnsibleFilterError."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from jinja2 import Undefined


def filter_call(name: str, func, *args):
    """Call func(*args) for filter `name`; undefined input and bad values become errors that
    name the filter and never echo the arguments (they may be secrets)."""
    for arg in args:
        if isinstance(arg, Undefined):
            raise AnsibleFilterError(f"nbops.jupyter.{name}: an argument is undefined")
    try:
        return func(*args)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise AnsibleFilterError(f"nbops.jupyter.{name}: {exc}") from exc
