# SPDX-License-Identifier: GPL-3.0-or-later
"""The passwd / passwd_check filters against Jupyter's own implementation as the oracle."""

from __future__ import annotations

import time

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import StrictUndefined
from jupyter_server.auth.security import passwd as jupyter_passwd
from jupyter_server.auth.security import passwd_check as jupyter_check

from ansible_collections.nbops.jupyter.plugins.filter.passwd import FilterModule as HashFilters
from ansible_collections.nbops.jupyter.plugins.filter.passwd import passwd
from ansible_collections.nbops.jupyter.plugins.filter.passwd_check import (
    FilterModule as CheckFilters,
)
from ansible_collections.nbops.jupyter.plugins.filter.passwd_check import passwd_check
from ansible_collections.nbops.jupyter.plugins.filter.passwd_info import passwd_info

VECTOR = "sha1:0e112c3ddfce:a68df677475c2b47b6e86d0467eec97ac5f4b85a"
LEGACY = ["sha1", "sha256", "sha512", "md5", "sha3_256", "blake2b"]
passwords = st.text(min_size=1, max_size=64).filter(lambda s: "\x00" not in s)


def test_filters_are_registered():
    assert HashFilters().filters() == {"passwd": passwd}
    assert CheckFilters().filters() == {"passwd_check": passwd_check}


def test_known_vector_checks_for_mypassword():
    assert passwd_check(VECTOR, "mypassword") is True
    assert passwd_check(VECTOR, "mypassword ") is False
    assert passwd("mypassword", "sha1", "0e112c3ddfce") == VECTOR


def test_argon2_uses_jupyters_parameters():
    hashed = passwd("secret")
    assert hashed.startswith("argon2:$argon2id$v=19$m=10240,t=10,p=8$")
    reference = jupyter_passwd("secret")
    # Same parameters, salt length and digest length: the strings differ only in salt and digest.
    assert len(hashed) == len(reference)
    assert jupyter_check(hashed, "secret") is True
    assert jupyter_check(hashed, "Secret") is False


@pytest.mark.parametrize("algorithm", ["argon2"] + LEGACY)
@pytest.mark.parametrize("password", ["pässwörd", "密码🔑", "a", "with space and :colons:"])
def test_every_format_round_trips_through_jupyter(algorithm, password):
    hashed = passwd(password, algorithm)
    assert jupyter_check(hashed, password) is True
    assert jupyter_check(hashed, password + "x") is False
    assert passwd_check(hashed, password) is True
    assert passwd_check(hashed, password + "x") is False


def test_salt_makes_output_deterministic():
    salt = "0123456789abcdef"
    assert passwd("pw", "argon2", salt) == passwd("pw", "argon2", salt)
    assert passwd("pw", "argon2", salt) != passwd("pw", "argon2", salt + "x")
    assert passwd("pw", "sha256", "00000000abcd") == passwd("pw", "sha256", "00000000abcd")
    # Without a salt each hash is new (that is why the role verifies instead of re-hashing).
    assert passwd("pw") != passwd("pw")


@pytest.mark.parametrize("algorithm", ["argon2", "sha1", "sha512"])
def test_check_accepts_hashes_made_by_jupyter(algorithm):
    hashed = jupyter_passwd("from-jupyter", algorithm)
    assert passwd_check(hashed, "from-jupyter") is True
    assert passwd_check(hashed, "from-Jupyter") is False


def test_check_accepts_other_argon2_types():
    from argon2 import PasswordHasher, Type

    for kind in (Type.I, Type.D, Type.ID):
        hashed = "argon2:" + PasswordHasher(type=kind).hash("pw")
        assert jupyter_check(hashed, "pw") is True
        assert passwd_check(hashed, "pw") is True
        assert passwd_check(hashed, "pw2") is False


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=passwords, other=passwords)
def test_argon2_round_trip_property(password, other):
    hashed = passwd(password)
    assert jupyter_check(hashed, password)
    assert passwd_check(hashed, password)
    assert passwd_check(hashed, other) is (other == password)


@settings(max_examples=200, deadline=None)
@given(
    password=passwords,
    other=passwords,
    algorithm=st.sampled_from(LEGACY),
    salt=st.text(alphabet="0123456789abcdef", min_size=12, max_size=12),
)
def test_legacy_round_trip_property(password, other, algorithm, salt):
    hashed = passwd(password, algorithm, salt)
    assert hashed.startswith(f"{algorithm}:{salt}:")
    assert jupyter_check(hashed, password)
    assert jupyter_check(hashed, other) is (other == password)
    assert passwd_check(hashed, other) is (other == password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("",), "nbops.jupyter.passwd: password must not be empty"),
        ((None,), "nbops.jupyter.passwd: password must be a string, got NoneType"),
        ((123,), "nbops.jupyter.passwd: password must be a string, got int"),
        ((StrictUndefined(name="pw"),), "nbops.jupyter.passwd: an argument is undefined"),
        (("pw", "rot13"), "nbops.jupyter.passwd: unknown algorithm 'rot13'; use one of: argon2, "),
        (("pw", "argon2", "short"), "nbops.jupyter.passwd: argon2 salt must be at least 16 bytes, got 5"),
        (("pw", "sha1", "abc"), "nbops.jupyter.passwd: sha1 salt must be 12 lowercase hexadecimal characters, got 'abc'"),
        (("pw", "sha1", "0E112C3DDFCE"), "nbops.jupyter.passwd: sha1 salt must be 12 lowercase hexadecimal"),
        (("pw", "sha1", 12), "nbops.jupyter.passwd: salt must be a string, got int"),
    ],
)
def test_passwd_errors(args, message):
    with pytest.raises(AnsibleFilterError) as err:
        passwd(*args)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("hashed", "password", "message"),
    [
        ("argon2:$argon2id$garbage", "pw", "nbops.jupyter.passwd_check: malformed argon2 hash"),
        ("argon2:$argon2id$v=19$m=10240,t=10,p=8$abc", "pw", "nbops.jupyter.passwd_check: malformed argon2 hash"),
        ("argon2:", "pw", "nbops.jupyter.passwd_check: malformed argon2 hash"),
        ("plaintext", "pw", "nbops.jupyter.passwd_check: malformed hash: expected 'argon2:<PHC string>' or"),
        ("rot13:0e112c3ddfce:abcd", "pw", "nbops.jupyter.passwd_check: malformed hash: unknown algorithm 'rot13'"),
        ("sha1:0e112c3ddfce:xyz", "pw", "nbops.jupyter.passwd_check: malformed hash: a sha1 digest is 40 lowercase hex"),
        ("sha1:0e112c3ddfce:" + "A" * 40, "pw", "nbops.jupyter.passwd_check: malformed hash: a sha1 digest is 40"),
        ("sha1:sält:" + "a" * 40, "pw", "nbops.jupyter.passwd_check: malformed hash: the salt must be ASCII"),
        (None, "pw", "nbops.jupyter.passwd_check: hash must be a string, got NoneType"),
        (VECTOR, "", "nbops.jupyter.passwd_check: password must not be empty"),
        (VECTOR, ["pw"], "nbops.jupyter.passwd_check: password must be a string, got list"),
        (StrictUndefined(name="h"), "pw", "nbops.jupyter.passwd_check: an argument is undefined"),
    ],
)
def test_passwd_check_errors(hashed, password, message):
    with pytest.raises(AnsibleFilterError) as err:
        passwd_check(hashed, password)
    assert str(err.value).startswith(message)
    assert "Traceback" not in str(err.value)


def test_errors_never_echo_the_password():
    with pytest.raises(AnsibleFilterError) as err:
        passwd_check("plaintext", "hunter2-secret")
    assert "hunter2-secret" not in str(err.value)


def _best_of(func, rounds=5):
    best = float("inf")
    for _round in range(rounds):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def test_argon2_costs_what_jupyter_costs(capsys):
    """Same parameters, same work: printed for the record (a figure, not a timed assertion)."""
    ours = _best_of(lambda: passwd("benchmark-password"))
    theirs = _best_of(lambda: jupyter_passwd("benchmark-password"))
    with capsys.disabled():
        print(
            f"\n[figure] argon2 hash, best of 5: nbops.jupyter.passwd {ours * 1000:.1f} ms, "
            f"jupyter_server passwd() {theirs * 1000:.1f} ms, ratio {ours / theirs:.2f}"
        )


@pytest.mark.parametrize(("hashed", "valid", "problem"), [
    (passwd("correct horse"), True, ""),
    ("sha1:0e112c3ddfce:a68df677475c2b47b6e86d0467eec97ac5f4b85a", True, ""),
    (passwd("correct horse") + "\n", False, "newline"),
    (" sha1:0e112c3ddfce:a68df677475c2b47b6e86d0467eec97ac5f4b85a", False, "whitespace"),
    ("sha1:0e112c3ddfce:a68df677", False, "40 lowercase hex characters"),
    ("argon2:$argon2id$v=19$m=10240,t=10,p=8$c2FsdA$aGFzaA", False, "malformed argon2 hash"),
    ("md7:salt:abcdef", False, "unknown algorithm"),
    ("plaintext", False, "expected 'argon2:<PHC string>'"),
])
def test_passwd_info_parses_as_jupyter_reads(hashed, valid, problem):
    info = passwd_info(hashed)
    assert info["valid"] is valid and problem in info["problem"]
    # The problem names what is wrong, never the hash itself.
    assert hashed.strip() not in info["problem"] or not hashed.strip()
