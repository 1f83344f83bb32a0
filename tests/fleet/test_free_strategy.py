# SPDX-License-Identifier: GPL-3.0-or-later
"""A converged fleet re-run with `strategy: free`, as the README recommends for daily re-runs:
hosts go at their own pace, so one host reaches the batch-wide steps while another has not yet
decided what they need. Held back here on purpose: the re-run must pass and change nothing."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from converge import run_playbook  # noqa: E402  pylint: disable=wrong-import-position

HOSTS = [h for h in os.environ.get("NB_FLEET", "").split(",") if h]
# One scenario is enough: the batch-wide steps are the same in every one.
pytestmark = pytest.mark.skipif(len(HOSTS) < 2 or os.environ.get("NB_SCENARIO") != "default",
                                reason="the default scenario's two hosts")

PLAY = """\
- name: Re-run with strategy free, the second host held back
  hosts: notebooks
  gather_facts: false
  strategy: free
  pre_tasks:
    # Long enough for the first host to run the role through (a converged run takes seconds).
    - name: Hold the second host back
      ansible.builtin.command: sleep 30
      changed_when: false
      when: inventory_hostname == ansible_play_hosts_all[1]
  roles:
    - role: nbops.jupyter.notebook
"""


def test_a_converged_re_run_with_strategy_free_changes_nothing(tmp_path):
    playbook = tmp_path / "free.yml"
    playbook.write_text(PLAY)
    rc, output = run_playbook(playbook, timeout=600)
    recap = {m.group(1): (int(m.group(2)), int(m.group(3)))
             for m in re.finditer(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", output, re.M)}
    assert rc == 0, output[-4000:]
    assert set(recap) == set(HOSTS) and all(counts == (0, 0) for counts in recap.values()), recap
