# SPDX-License-Identifier: GPL-3.0-or-later
"""The converged-host shortcut (tasks/preflight.yml, tasks/converged.yml, tasks/stamp.yml), in every scenario.

A host found as the last run seen to change nothing left it ends the role after the run's first call.
The shortcut is only right if every step it skips would have found nothing to do: each scenario,
on each platform, runs the whole role past it (notebook_converged_shortcut false) and must see no
change, and a run with it must end at the stamp. The default scenario also changes the host behind
the role's back, plants a stamp root did not write and gives bad input to a converged host."""

from __future__ import annotations

import os

import pytest

from converge import converge
from hostcheck import sh

# Task headers (printed for skipped tasks too): the shortcut's end, which every run passes, and steps
# only a whole run reaches - the last of them is the stamp's.
END = "TASK [nbops.jupyter.notebook : End here, the host being converged]"
FIRST_CALL = "TASK [nbops.jupyter.notebook : Gather the facts the role needs, and read the host as the last run seen to change nothing did]"
WHOLE = ("TASK [nbops.jupyter.notebook : Write the server config", "TASK [nbops.jupyter.notebook : Mark the host converged]")


def _whole(run) -> bool:
    return WHOLE[1] in run.output


def _default_scenario():
    """Tests of the shortcut's own logic, the same in every mode: the default scenario runs them."""
    if os.environ.get("NB_INSTANCES") != "1":
        pytest.skip("the default scenario runs these")


def _shortcut_applies() -> bool:
    if os.environ.get("NB_SHORTCUT") != "1":
        pytest.skip("this scenario's settings take no shortcut (client certificates, or notebook_state latest)")
    return True


def _settled(host: str):
    """A host converged and seen to be: a run that changes nothing (and so leaves the stamp)."""
    run = converge(host)
    if run.changed != 0:
        run = converge(host)
    assert run.rc == 0 and run.failed == 0 and run.changed == 0, run.output[-4000:]
    return run


def test_every_step_past_the_shortcut_finds_nothing_to_do(host):
    """The comparison the shortcut rests on: on a host it would end at, the whole role changes nothing."""
    _settled(host)
    whole = converge(host, {"notebook_converged_shortcut": False})
    assert whole.rc == 0 and whole.changed == 0, whole.output[-6000:]
    assert _whole(whole) and WHOLE[0] in whole.output


@pytest.mark.one_platform(1)
def test_a_converged_host_ends_after_the_host_reader(host):
    _shortcut_applies()
    _settled(host)
    run = converge(host)
    assert run.rc == 0 and run.changed == 0, run.output[-4000:]
    assert END in run.output, run.output[-4000:]
    assert not any(header in run.output for header in WHOLE), run.output[-4000:]
    # One call to the host: the run's first read it as the stamp's run did; the reader of a whole run never came.
    assert FIRST_CALL in run.output and "TASK [nbops.jupyter.notebook : Read the host's state]" not in run.output, run.output[-4000:]
    # The input checks passed with these inputs in the run that left the stamp.
    assert "TASK [nbops.jupyter.notebook : Check numbers and names]" not in run.output, run.output[-4000:]
    # Check mode ends there too, and predicts nothing.
    check = converge(host, args=("--check", "--diff"))
    assert check.rc == 0 and check.changed == 0 and not _whole(check), check.output[-4000:]


@pytest.mark.one_platform(0)
def test_a_host_changed_behind_the_roles_back_gets_a_whole_run(host, paths):
    _default_scenario()
    _shortcut_applies()
    _settled(host)
    config = f"{paths['config']}/jupyter_server_config.json"
    if sh(host, f"test -e {config} && echo yes || true").strip() != "yes":
        config = f"{paths['config']}/jupyter_notebook_config.json"
    sh(host, f"chmod 0644 {config}")
    run = converge(host)
    assert run.rc == 0 and _whole(run) and run.changed > 0, run.output[-4000:]
    assert sh(host, f"stat -c %a {config}").strip() == "640"
    # That run changed something: it leaves no stamp, so the next is a whole run too (which does).
    after = converge(host)
    assert after.rc == 0 and after.changed == 0 and _whole(after), after.output[-4000:]
    # A changed input, too: with another health timeout nothing changes, but the role looks.
    again = converge(host, {"notebook_health_timeout": 61})
    assert again.rc == 0 and again.changed == 0 and _whole(again), again.output[-4000:]


@pytest.mark.one_platform(1)
def test_a_stamp_the_service_account_could_have_written_is_not_trusted(host, paths):
    """The stamp is root's in a root-only directory: one of another owner ends nothing."""
    _default_scenario()
    _shortcut_applies()
    _settled(host)
    stamp = f"/run/nbops-jupyter/converged-{paths['service']}"
    sh(host, f"chown 65534 {stamp}")
    run = converge(host)
    assert run.rc == 0 and _whole(run) and run.changed == 0, run.output[-4000:]
    assert sh(host, f"stat -c %u {stamp}").strip() == "0"


@pytest.mark.one_platform(1)
def test_bad_input_on_a_converged_host_is_still_refused(host):
    """Other inputs than the stamp's are checked again; the secrets, which count in no digest, always."""
    _default_scenario()
    _shortcut_applies()
    _settled(host)
    for extra, name in (({"notebook_extra_packages": ["./local.whl"]}, "notebook_extra_packages"),
                        ({"notebook_pip_index_url": "http://pypi.example.org/simple"}, "notebook_pip_index_url")):
        run = converge(host, extra)
        assert run.rc != 0 and run.changed == 0 and f"{name} must" in run.output, run.output[-4000:]
