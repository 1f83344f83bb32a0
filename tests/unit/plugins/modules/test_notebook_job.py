# SPDX-License-Identifier: GPL-3.0-or-later
"""nbops.jupyter.notebook_job and the background jobs of module_utils/_job.py: real forks, real
files in a root-only directory."""

from __future__ import annotations

import os
import time

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _job
from ansible_collections.nbops.jupyter.plugins.modules import notebook_job

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import AS_ROOT_WITH_NOBODY, NOBODY, run_module


@pytest.fixture
def jobs(tmp_path):
    path = tmp_path / "locks"
    path.mkdir(mode=0o700)
    return path


def _start(jobs, work, timeout=60, redact=str) -> str:
    fd = os.open(jobs, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return str(jobs / _job.start(fd, "job-test", timeout, work, redact))
    finally:
        os.close(fd)


def _answer(text):
    def work():
        print('\n{"changed": true, "installed": {"nbprobe": "1.0"}, "msg": "%s"}' % text)
        raise SystemExit(0)
    return work


def test_the_answer_of_the_job_is_the_answer_and_its_files_go(jobs):
    began = time.monotonic()
    path = _start(jobs, _answer("done"))
    assert time.monotonic() - began < 2, "the start waited for the job"
    answer = run_module(notebook_job, {"path": path, "timeout": 30})
    assert answer["changed"] and answer["installed"] == {"nbprobe": "1.0"} and not answer.get("failed")
    assert os.listdir(jobs) == []


def test_a_job_that_dies_without_an_answer_fails_at_once(jobs):
    path = _start(jobs, lambda: os._exit(9))  # pylint: disable=protected-access
    began = time.monotonic()
    answer = run_module(notebook_job, {"path": path, "timeout": 60})
    assert answer["failed"] and "ended without an answer" in answer["msg"]
    assert time.monotonic() - began < 10
    assert os.listdir(jobs) == [], "the dead job's files were left"


def test_a_job_past_its_time_stops_and_says_so(jobs):
    path = _start(jobs, lambda: time.sleep(30), timeout=1)
    answer = run_module(notebook_job, {"path": path, "timeout": 20})
    assert answer["failed"] and "did not finish within 1 s" in answer["msg"]


def test_no_except_exception_on_the_way_takes_the_timeout_for_its_own(jobs):
    def work():
        try:
            time.sleep(30)
        except Exception:  # pylint: disable=broad-exception-caught
            print('\n{"changed": false, "msg": "swallowed"}')
            raise SystemExit(0)
    answer = run_module(notebook_job, {"path": _start(jobs, work, timeout=1), "timeout": 20})
    assert answer["failed"] and "did not finish within 1 s" in answer["msg"]


def test_an_error_the_work_did_not_answer_is_redacted(jobs):
    def work():
        raise RuntimeError("https://analyst:tok-9f3@index.example/simple unreachable")
    answer = run_module(notebook_job, {"path": _start(jobs, work, redact=lambda text: text.replace("tok-9f3", "***")),
                                       "timeout": 20})
    assert answer["failed"] and "the background job failed" in answer["msg"] and "tok-9f3" not in answer["msg"]


def test_the_waiter_gives_up_at_its_timeout_while_the_job_runs(jobs):
    path = _start(jobs, lambda: time.sleep(5), timeout=10)
    answer = run_module(notebook_job, {"path": path, "timeout": 1})
    assert answer["failed"] and "still running after 1 s" in answer["msg"]


def test_a_failed_job_fails_the_wait_with_its_message(jobs):
    def work():
        print('\n{"failed": true, "msg": "uv failed (exit 2)", "changed": false, "complete": true}')
        raise SystemExit(1)
    answer = run_module(notebook_job, {"path": _start(jobs, work), "timeout": 30})
    assert answer["failed"] and answer["msg"] == "uv failed (exit 2)" and answer["complete"]


def test_only_a_job_result_file_in_a_root_only_directory_is_read(jobs):
    answer = run_module(notebook_job, {"path": str(jobs / "other.json")})
    assert answer["failed"] and "is not a job's result file" in answer["msg"]
    os.chmod(jobs, 0o777)
    answer = run_module(notebook_job, {"path": str(jobs / "job-x.json")})
    assert answer["failed"] and "must be owned by root with mode 0700" in answer["msg"]


def _as_root_with_nobody(test):
    for mark in AS_ROOT_WITH_NOBODY:
        test = mark(test)
    return test


@_as_root_with_nobody
def test_a_result_another_user_left_is_refused(jobs):
    (jobs / "job-x.json").write_text('{"changed": true}')
    os.chown(jobs / "job-x.json", NOBODY, NOBODY)
    answer = run_module(notebook_job, {"path": str(jobs / "job-x.json")})
    assert answer["failed"] and "not a regular file of root's" in answer["msg"]
