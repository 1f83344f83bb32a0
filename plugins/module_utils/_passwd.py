# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Jupyter password hashes, made and checked the way jupyter_server's auth/security.py does.

Private to this collection (the leading underscore): the filter plugins are the public face.
Errors are raised as ValueError/TypeError with a message meant for the user; the filters turn
them into AnsibleFilterError.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

try:
    from passlib.hash import argon2 as _passlib_argon2
except ImportError as exc:  # pragma: no cover - depends on the controller's packages
    _passlib_argon2 = None
    PASSLIB_IMPORT_ERROR: Exception | None = exc
else:
    PASSLIB_IMPORT_ERROR = None

# jupyter_server's passwd(): argon2.PasswordHasher(memory_cost=10240, time_cost=10, parallelism=8)
# with argon2-cffi's defaults for the rest (argon2id, 16-byte salt, 32-byte digest).
ARGON2_PARAMS = {"type": "ID", "memory_cost": 10240, "rounds": 10, "parallelism": 8, "digest_size": 32}
ARGON2_PREFIX = "argon2:"
# Below this a salt gives too little uniqueness; argon2 itself requires 8 bytes.
ARGON2_MIN_SALT_BYTES = 16
# Legacy salts are what jupyter's passwd() made: "%012x" % random.getrandbits(48).
LEGACY_SALT = re.compile(r"^[0-9a-f]{12}$")
# hashlib algorithms with a fixed-size hexdigest() (shake_* need a length, so Jupyter can't use them).
LEGACY_ALGORITHMS = tuple(
    sorted(name for name in hashlib.algorithms_guaranteed if not name.startswith("shake_"))
)
ALGORITHMS = ("argon2",) + LEGACY_ALGORITHMS
_HEX = re.compile(r"^[0-9a-f]+$")


def _require_password(password: object) -> str:
    if not isinstance(password, str):
        raise TypeError(f"password must be a string, got {type(password).__name__}")
    if password == "":
        raise ValueError("password must not be empty")
    return password


def _argon2_handler():
    if _passlib_argon2 is None:
        raise RuntimeError(
            "argon2 hashes need passlib (pip install libpass argon2-cffi on the controller): "
            f"{PASSLIB_IMPORT_ERROR}"
        )
    return _passlib_argon2


def hash_password(password: object, algorithm: object = "argon2", salt: object = None) -> str:
    """Return a hash Jupyter accepts: 'argon2:<PHC string>' or legacy 'algo:salt:hexdigest'.

    A salt makes the result deterministic; without one a random salt is drawn, as Jupyter does.
    """
    password = _require_password(password)
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {algorithm!r}; use one of: {', '.join(ALGORITHMS)}"
        )
    if salt is not None and not isinstance(salt, str):
        raise TypeError(f"salt must be a string, got {type(salt).__name__}")

    if algorithm == "argon2":
        handler = _argon2_handler().using(**ARGON2_PARAMS)
        if salt is not None:
            salt_bytes = salt.encode("utf-8")
            if len(salt_bytes) < ARGON2_MIN_SALT_BYTES:
                raise ValueError(
                    f"argon2 salt must be at least {ARGON2_MIN_SALT_BYTES} bytes, "
                    f"got {len(salt_bytes)}"
                )
            handler = handler.using(salt=salt_bytes)
        return ARGON2_PREFIX + handler.hash(password)

    if salt is None:
        salt = f"{secrets.randbits(48):012x}"
    elif not LEGACY_SALT.match(salt):
        raise ValueError(
            f"{algorithm} salt must be 12 lowercase hexadecimal characters, got {salt!r}"
        )
    digest = hashlib.new(algorithm, password.encode("utf-8") + salt.encode("ascii")).hexdigest()
    return f"{algorithm}:{salt}:{digest}"


def check_password(hashed: object, password: object) -> bool:
    """True when `password` matches `hashed`, for every format Jupyter's passwd_check accepts.

    Unlike Jupyter, a malformed hash is an error rather than a silent False: a typo in a
    vaulted hash should stop the play, not lock everybody out.
    """
    if not isinstance(hashed, str):
        raise TypeError(f"hash must be a string, got {type(hashed).__name__}")
    password = _require_password(password)

    if hashed.startswith(ARGON2_PREFIX):
        handler = _argon2_handler()
        phc = hashed[len(ARGON2_PREFIX):]
        if not handler.identify(phc):
            raise ValueError("malformed argon2 hash: expected 'argon2:$argon2id$v=19$m=...'")
        try:
            return bool(handler.verify(password, phc))
        except ValueError as exc:
            raise ValueError(f"malformed argon2 hash: {exc}") from exc

    parts = hashed.split(":", 2)
    if len(parts) != 3:
        raise ValueError(
            "malformed hash: expected 'argon2:<PHC string>' or 'algorithm:salt:hexdigest'"
        )
    algorithm, salt, digest = parts
    if algorithm not in LEGACY_ALGORITHMS:
        raise ValueError(f"malformed hash: unknown algorithm {algorithm!r}")
    expected_length = hashlib.new(algorithm).digest_size * 2
    if len(digest) != expected_length or not _HEX.match(digest):
        raise ValueError(
            f"malformed hash: a {algorithm} digest is {expected_length} lowercase hex characters"
        )
    try:
        salt_bytes = salt.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError("malformed hash: the salt must be ASCII") from exc
    actual = hashlib.new(algorithm, password.encode("utf-8") + salt_bytes).hexdigest()
    return hmac.compare_digest(actual, digest)


def describe_hash(hashed: object) -> dict:
    """What a stored hash is, parsed the way check_password reads it: {'valid', 'algorithm',
    'problem'}. The problem never quotes the hash (it may be vaulted)."""
    if not isinstance(hashed, str):
        return {"valid": False, "algorithm": "", "problem": f"it is a {type(hashed).__name__}, not a string"}
    if hashed != hashed.strip():
        return {"valid": False, "algorithm": "", "problem": (
            "it starts or ends with whitespace or a newline (as `echo secret | ansible-vault encrypt_string` "
            "makes it); Jupyter would then reject every password. Strip it, or vault it with `printf %s`")}
    algorithm = hashed.split(":", 1)[0]
    if hashed.startswith(ARGON2_PREFIX):
        phc = hashed[len(ARGON2_PREFIX):]
        handler = _argon2_handler()
        try:
            if not handler.identify(phc):
                raise ValueError("not an argon2 PHC string")
            handler.from_string(phc)
        except ValueError as exc:
            return {"valid": False, "algorithm": "argon2", "problem": f"malformed argon2 hash ({exc.__class__.__name__})"}
        return {"valid": True, "algorithm": "argon2", "problem": ""}
    try:
        check_password(hashed, "probe")
    except ValueError as exc:
        return {"valid": False, "algorithm": algorithm if algorithm in LEGACY_ALGORITHMS else "", "problem": str(exc)}
    return {"valid": True, "algorithm": algorithm, "problem": ""}
