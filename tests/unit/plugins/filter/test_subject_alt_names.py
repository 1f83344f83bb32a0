# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import shutil
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nbops.jupyter.plugins.filter.subject_alt_names import subject_alt_names

OPENSSL_TEXT = (
    "X509v3 Subject Alternative Name: \n"
    "    DNS:Host.Example.org, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1,"
    " IP Address:FE80:0:0:0:0:0:0:1\n"
)


def test_names_are_normalised_sorted_and_unique():
    assert subject_alt_names(["localhost", "Host.Example.org", "127.0.0.1", "::1", "0:0::1", "host.example.org."]) == [
        "DNS:host.example.org",
        "DNS:localhost",
        "IP:127.0.0.1",
        "IP:::1",
    ]


def test_openssl_output_compares_equal_to_names():
    assert subject_alt_names(OPENSSL_TEXT, "openssl") == subject_alt_names(
        ["host.example.org", "localhost", "127.0.0.1", "::1", "fe80::1"]
    )


def test_no_extension_is_empty():
    assert subject_alt_names("", "openssl") == []
    assert subject_alt_names("No extensions in certificate\n", "openssl") == []


def test_unknown_kinds_are_kept_so_sets_differ():
    assert "email:a@b.c" in subject_alt_names("    DNS:x, email:a@b.c", "openssl")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_against_a_real_certificate(tmp_path):
    names = "DNS:nb.example.org,DNS:localhost,IP:127.0.0.1,IP:::1,IP:2001:db8::5"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(tmp_path / "k"), "-out", str(tmp_path / "c"), "-days", "1", "-subj", "/CN=nb",
         "-addext", f"subjectAltName={names}"],
        check=True, capture_output=True,
    )
    text = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "c"), "-noout", "-ext", "subjectAltName"],
                          check=True, capture_output=True, text=True).stdout
    assert subject_alt_names(text, "openssl") == subject_alt_names(
        ["nb.example.org", "localhost", "127.0.0.1", "::1", "2001:db8:0::5"]
    )


@pytest.mark.parametrize(
    ("value", "source", "message"),
    [
        ("localhost", "names", "nbops.jupyter.subject_alt_names: expected a list of names, got str"),
        (["ok", ""], "names", "nbops.jupyter.subject_alt_names: every name must be a non-empty string, got ''"),
        (["bad name!"], "names", "nbops.jupyter.subject_alt_names: 'bad name!' is neither an IP address nor a DNS name"),
        (["a"], "pem", "nbops.jupyter.subject_alt_names: source must be 'names' or 'openssl', got 'pem'"),
        (["a"], "openssl", "nbops.jupyter.subject_alt_names: expected openssl's text output, got list"),
    ],
)
def test_errors(value, source, message):
    with pytest.raises(AnsibleFilterError) as err:
        subject_alt_names(value, source)
    assert str(err.value) == message
