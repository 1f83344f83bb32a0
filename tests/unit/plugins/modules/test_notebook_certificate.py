# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_certificate with the real openssl CLI, in a TLS directory and a lock
directory under tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _san, _tls
from ansible_collections.nbops.jupyter.plugins.modules import notebook_certificate

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import run_module

pytestmark = [pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI"),
              pytest.mark.skipif(os.geteuid() != 0, reason="the module chowns the key to root")]
NAMES = ["nb.example.org", "localhost", "127.0.0.1", "::1"]

CONCURRENT_RUN = """
import json, sys, time
from ansible_collections.nbops.jupyter.plugins.modules import notebook_certificate
from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import run_module
args, start = json.loads(sys.argv[1]), float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
print(json.dumps(run_module(notebook_certificate, args)))
"""


@pytest.fixture
def args(tmp_path):
    """The role's root-owned 0750 TLS directory; the lock directory is left for the module to make."""
    tls = tmp_path / "tls"
    tls.mkdir()
    os.chmod(tls, 0o750)
    return {"path": str(tls), "names": NAMES, "common_name": "nb.example.org", "group": "root",
            "lock_dir": str(tmp_path / "locks")}


def generations(args):
    return sorted(name for name in os.listdir(args["path"]) if name.startswith("gen-"))


def live(args):
    return os.readlink(os.path.join(args["path"], "live"))


def public_keys(args):
    cert, key = (os.path.join(args["path"], "live", name) for name in ("cert.pem", "key.pem"))
    from_cert = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], capture_output=True, text=True, check=True)
    from_key = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], capture_output=True, text=True, check=True)
    return from_cert.stdout, from_key.stdout


def test_first_run_makes_it_second_run_keeps_it(args):
    """A missing pair is made (reason 'certificate or key missing'); the next run changes nothing."""
    first = run_module(notebook_certificate, args)
    assert not first.get("failed"), first
    assert first["changed"] and first["reasons"] == ["certificate or key missing"]
    cert = os.path.join(args["path"], "live", "cert.pem")
    assert (first["cert"], first["key"]) == (cert, os.path.join(args["path"], "live", "key.pem"))
    assert first["fingerprint_sha256"] == _tls.fingerprint(cert)
    assert first["names"] == _san.entries_from_names(NAMES) and first["not_after"]
    made = live(args)
    assert generations(args) == [made]
    assert os.stat(args["lock_dir"]).st_mode & 0o777 == 0o700
    second = run_module(notebook_certificate, args)
    assert not second["changed"] and second["reasons"] == []
    assert second["fingerprint_sha256"] == first["fingerprint_sha256"]
    assert generations(args) == [made] and live(args) == made


def test_other_names_make_it_again(args):
    """The same names in another order or case keep it; one name more makes a new generation."""
    first = run_module(notebook_certificate, args)
    same = run_module(notebook_certificate, {**args, "names": ["::1", "127.0.0.1", "LOCALHOST", "NB.example.org"]})
    assert not same["changed"] and same["fingerprint_sha256"] == first["fingerprint_sha256"]
    before = live(args)
    changed = run_module(notebook_certificate, {**args, "names": NAMES + ["nb2.example.org"]})
    assert changed["changed"] and changed["reasons"] == ["names changed"]
    assert changed["fingerprint_sha256"] != first["fingerprint_sha256"]
    assert "DNS:nb2.example.org" in changed["names"]
    assert live(args) != before and generations(args) == [live(args)]


def test_another_key_type_makes_it_again(args):
    """Asking for RSA where an ECDSA key is live makes a new RSA pair, and keeps it afterwards."""
    run_module(notebook_certificate, args)
    rsa = {**args, "key_type": "rsa", "rsa_bits": 2048}
    changed = run_module(notebook_certificate, rsa)
    assert changed["changed"] and changed["reasons"] == ["key type changed"]
    found = _tls.inspect(changed["cert"], changed["key"], 0)
    assert (found["key_type"], found["key_bits"]) == ("rsa", 2048)
    assert not run_module(notebook_certificate, rsa)["changed"]


def test_check_mode_reports_the_reasons_and_changes_nothing(args):
    """In check mode nothing is made (no generation, no live link, no lock directory) and a live
    pair is left as it is, whatever the reasons reported."""
    fresh = run_module(notebook_certificate, args, check_mode=True)
    assert fresh["changed"] and fresh["reasons"] == ["certificate or key missing"] and fresh["fingerprint_sha256"] == ""
    assert os.listdir(args["path"]) == [] and not os.path.exists(args["lock_dir"])
    made = run_module(notebook_certificate, args)
    cert_bytes = open(made["cert"], "rb").read()
    before = (live(args), generations(args))
    predicted = run_module(notebook_certificate, {**args, "names": ["other.example.org"]}, check_mode=True)
    assert predicted["changed"] and predicted["reasons"] == ["names changed"] and predicted["fingerprint_sha256"] == ""
    assert (live(args), generations(args)) == before and open(made["cert"], "rb").read() == cert_bytes
    kept = run_module(notebook_certificate, args, check_mode=True)
    assert not kept["changed"] and kept["fingerprint_sha256"] == made["fingerprint_sha256"]


def test_two_runs_at_once_take_turns_on_the_lock(args):
    """Two processes started together: one makes the pair, the other waits on the lock, then finds it
    valid. One generation is left, live points at it, and key and certificate match."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    start = str(time.time() + 3)
    # RSA keys take a while to make: a run that did not wait for the lock would overlap the other.
    argv = [sys.executable, "-c", CONCURRENT_RUN, json.dumps({**args, "key_type": "rsa", "rsa_bits": 2048}), start]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env),
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    results = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
    assert not any(result.get("failed") for result in results), results
    assert sorted(result["changed"] for result in results) == [False, True], results
    assert results[0]["fingerprint_sha256"] == results[1]["fingerprint_sha256"]
    assert generations(args) == [live(args)]
    from_cert, from_key = public_keys(args)
    assert from_cert and from_cert == from_key
    assert results[0]["fingerprint_sha256"] == _tls.fingerprint(os.path.join(args["path"], "live", "cert.pem"))


@pytest.mark.parametrize("mode", [0o770, 0o757])
def test_a_tls_directory_others_can_write_is_refused(args, mode):
    """The key lives there: a directory group or others can write is an error and nothing is made."""
    os.chmod(args["path"], mode)
    result = run_module(notebook_certificate, args)
    assert result["failed"] and f"{args['path']} can be written by others than root" in result["msg"]
    assert os.listdir(args["path"]) == []


def test_a_missing_group_or_directory_is_an_error(args, tmp_path):
    """An unknown group fails (check mode predicts anyway); a missing TLS directory fails naming it."""
    unknown = run_module(notebook_certificate, {**args, "group": "nbops-no-such-group"})
    assert unknown["failed"] and unknown["msg"] == "group nbops-no-such-group does not exist"
    predicted = run_module(notebook_certificate, {**args, "group": "nbops-no-such-group"}, check_mode=True)
    assert not predicted.get("failed") and predicted["changed"]
    missing = run_module(notebook_certificate, {**args, "path": str(tmp_path / "absent")})
    assert missing["failed"] and str(tmp_path / "absent") in missing["msg"]
    assert os.listdir(args["path"]) == []
