# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.unknown_ciphers with the controller's OpenSSL."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nbops.jupyter.plugins.filter.unknown_ciphers import FilterModule, unknown_ciphers

INTERMEDIATE = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
                "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305"]


def test_registered():
    assert FilterModule().filters() == {"unknown_ciphers": unknown_ciphers}


def test_the_role_defaults_are_all_known():
    assert unknown_ciphers(INTERMEDIATE) == []


@pytest.mark.parametrize("name", [
    "ECDHE-ECDSA-AES128-GCM-SHA265",    # a typo OpenSSL would drop silently among good names
    "HIGH",                             # an alias: many ciphers, not one
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",  # a list in one entry
    "TLS_AES_128_GCM_SHA256",           # a TLS 1.3 suite: fixed, not configurable here
    "",
])
def test_anything_but_one_known_cipher_is_reported(name):
    assert unknown_ciphers(INTERMEDIATE[:2] + [name]) == [name]


def test_a_non_list_is_an_error_naming_the_filter():
    with pytest.raises(AnsibleFilterError, match="nbops.jupyter.unknown_ciphers: expected a list"):
        unknown_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
