#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_venv
short_description: Make or update the Jupyter server's virtualenv with uv or pip
version_added: 0.2.0
author: nbops.jupyter contributors (@nbops)
description:
  - Makes the virtualenv when it is missing, takes the C(uv) binary from the package index (or a
    find-links wheelhouse) when O(installer=uv), and installs the requirements that are missing or
    on a version that doesn't satisfy them (with O(state=latest), all of them with C(--upgrade)).
  - Reports C(changed) from the installed versions before and after, never from installer output.
  - What the venv holds is read from its C(*.dist-info) metadata; nothing from the venv runs for
    that, and a venv that already satisfies every requirement asks no index at all.
  - An install that fails while resolving or downloading leaves the venv as it was and it still
    counts as complete; only an install cut off while writing makes the next run install every
    requirement again. With O(state=latest), a failed look for newer releases of a venv that
    satisfies every requirement is a warning, so the rest of a play can still run.
  - Credentials in O(index_url) reach uv and pip through their environment only (never argv, which
    every local user can read), and appear in no returned value or message.
  - Concurrent runs for the same venv take turns on a lock in O(lock_dir).
options:
  path:
    description: The virtualenv's directory; its parents are made root-owned, C(0755).
    type: path
    required: true
  requirements:
    description: PEP 508 requirements to install, such as C(notebook==7.6.5) or C(numpy>=2).
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) installs what is missing or unsatisfied. V(latest) upgrades every requirement
        (and what it needs) to the newest release on every run.
    type: str
    choices: [present, latest]
    default: present
  installer:
    description: V(uv) (needs no pip in the venv) or V(pip).
    type: str
    choices: [uv, pip]
    default: uv
  uv_version:
    description:
      - The uv release to use with O(installer=uv). Empty takes the newest stable release when
        the venv has no uv, and keeps the one it has.
    type: str
    default: ""
  index_url:
    description:
      - A PEP 503 simple index to use instead of PyPI; C(https://) only. May carry C(user:token@).
    type: str
    default: ""
  extra_args:
    description:
      - More installer arguments, such as C(--no-index) and C(--find-links /srv/wheels); the uv
        download honours C(--index-url), C(--extra-index-url), C(--find-links) and C(--no-index).
      - Must not carry credentials (they would be visible in C(/proc)); use O(index_url) or netrc.
    type: list
    elements: str
    default: []
  python:
    description: The interpreter that makes the virtualenv.
    type: str
    default: python3
  lock:
    description:
      - A lock for this venv, a requirements file's text with an exact pin and C(--hash=sha256:...) for every
        distribution (C(uv pip compile --generate-hashes)). The install is of exactly that file, with
        C(--require-hashes), and a file whose sha256 the lock doesn't list is refused. O(requirements) then names the
        pins, which tell whether the venv already holds the lock.
    type: str
    default: ""
  lock_dir:
    description: A root-owned C(0700) directory for the lock, made when missing.
    type: path
    default: /run/nbops-jupyter
  background:
    description:
      - Start the work in a process of its own and answer at once with RV(job), the job's result file in
        O(lock_dir); M(nbops.jupyter.notebook_job) waits for it and answers what this module would have.
      - One pipelined call, unlike C(async), and the arguments (O(index_url) too) stay in the job's memory
        for its lifetime. (Without pipelining Ansible's own copy of the module, which holds them, waits in
        the remote temporary directory only until the start's answer.) The answer in the file is censored
        as the module's output is.
      - Ignored in check mode, which predicts in the foreground.
    type: bool
    default: false
  job_timeout:
    description: With O(background), longest the job may run, in seconds; it then stops the installer and fails.
    type: int
    default: 3600
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
    details:
      - Predicts from the venv's metadata. With O(state=latest) and every requirement satisfied it
        asks the installer for a resolution without installing (C(uv pip compile),
        C(pip install --dry-run --report)) and reports a change when a version would move.
  diff_mode:
    support: none
  async:
    support: full
    details:
      - O(background) does the same in one pipelined call.
  action:
    support: none
  bypass_host_loop:
    support: none
requirements:
  - python3-venv on the host with O(installer=pip)
seealso:
  - module: nbops.jupyter.notebook_host_info
"""

EXAMPLES = r"""
- name: Start the install of notebook into its venv
  nbops.jupyter.notebook_venv:
    path: /opt/jupyter-notebook/venv
    requirements: [notebook, numpy]
    background: true
  register: install_job

- name: Wait for it
  nbops.jupyter.notebook_job:
    path: "{{ install_job.job }}"

- name: From a wheelhouse on the host, no index at all
  nbops.jupyter.notebook_venv:
    path: /opt/jupyter-notebook/venv
    requirements: [notebook==7.6.5]
    extra_args: [--no-index, --find-links, /srv/wheels]
"""

RETURN = r"""
job:
  description: With O(background), the job's result file, for M(nbops.jupyter.notebook_job); the other values come from there.
  returned: when the work started in the background
  type: str
  sample: /run/nbops-jupyter/job-venv-opt-jupyter-notebook-venv-3f2a9c4e1b7d6a05.json
installed:
  description: Every distribution in the venv afterwards (in check mode, now), normalized name to version.
  returned: always
  type: dict
  sample: {notebook: 7.6.5, jupyter-server: 2.17.0}
requirements:
  description: Per requirement, its project name, installed version and whether that satisfies it.
  returned: always
  type: dict
  sample: {"notebook": {"name": "notebook", "version": "7.6.5", "satisfied": true}}
complete:
  description: The last install finished (or wrote nothing before it failed).
  returned: always
  type: bool
uv_version:
  description: The uv release in the venv, with O(installer=uv).
  returned: always
  type: str
actions:
  description: What the run did, or would do in check mode.
  returned: always
  type: list
  elements: str
  sample: [create the venv, fetch uv 0.9.5, "install notebook"]
packages_changed:
  description: Some distribution was added, removed or changed version.
  returned: always
  type: bool
upgrade_error:
  description: With O(state=latest), why the look for newer releases failed while the venv kept satisfying every requirement.
  returned: when that happened
  type: str
stdout_lines:
  description: The installer's last lines of output, credentials replaced by C(***).
  returned: when an installer ran
  type: list
  elements: str
stderr_lines:
  description: The installer's last lines of errors, credentials replaced by C(***).
  returned: when an installer ran
  type: list
  elements: str
"""

import fcntl
import json
import os
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _index, _job, _safepath, _uv, _venv


def lock_name(venv: str) -> str:
    return "venv" + venv.replace("/", "-") + ".lock"


def predict_latest(module, params, state) -> list[str]:
    """Which installed versions an upgrade would move, asked of the installer without installing."""
    venv, installer = params["path"], params["installer"]
    python = os.path.join(venv, "bin", "python")
    env = _venv.installer_env(installer, params["index_url"], state["uv_version"])
    if installer == "uv":
        uv = os.path.join(venv, "bin", "uv")
        if not os.access(uv, os.X_OK):
            return []
        argv = [uv, "pip", "compile", "-", "--python", python, "--upgrade", "--quiet", "--no-header",
                "--no-annotate", "--no-strip-markers"] + params["extra_args"]
        proc = subprocess.run(argv, input="\n".join(params["requirements"]) + "\n", capture_output=True,
                              text=True, env=env, check=False)
        pins = {}
        for line in proc.stdout.splitlines():
            name, sep, version = line.split(";")[0].strip().partition("==")
            if sep:
                pins[_venv.normalize(name.split("[")[0])] = version.strip()
    else:
        argv = [os.path.join(venv, "bin", "pip"), "install", "--dry-run", "--upgrade", "--quiet", "--report", "-",
                "--disable-pip-version-check", "--no-input"] + params["extra_args"] + params["requirements"]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        pins = {}
        if proc.returncode == 0:
            try:
                report = json.loads(proc.stdout)
            except ValueError:
                report = {"install": []}
            for item in report.get("install", []):
                meta = item.get("metadata", {})
                pins[_venv.normalize(meta.get("name", ""))] = meta.get("version", "")
    if proc.returncode != 0:
        module.warn("could not ask the index for newer releases, so check mode can't tell whether a normal run "
                    "would upgrade: " + " ".join(_venv.tail(proc.stderr, 3)))
        return []
    have = state["installed"]
    return sorted(f"{name} {have.get(name, '(new)')} -> {version}" for name, version in pins.items()
                  if have.get(name) != version)


def _write_lock(params) -> str:
    """The lock as a file for the installer, in root's own lock directory (never /tmp)."""
    fd, path = tempfile.mkstemp(dir=params["lock_dir"], prefix="lock-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(params["lock"])
    return path


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "requirements": {"type": "list", "elements": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "latest"], "default": "present"},
            "installer": {"type": "str", "choices": ["uv", "pip"], "default": "uv"},
            "uv_version": {"type": "str", "default": ""},
            "index_url": {"type": "str", "default": "", "no_log": True},
            "extra_args": {"type": "list", "elements": "str", "default": []},
            "python": {"type": "str", "default": "python3"},
            "lock": {"type": "str", "default": ""},
            "lock_dir": {"type": "path", "default": "/run/nbops-jupyter"},
            "background": {"type": "bool", "default": False},
            "job_timeout": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,
    )
    params = module.params
    venv = params["path"] = params["path"].rstrip("/")
    try:
        sources = _index.Sources(params["index_url"], params["extra_args"])
        sources.check()
        _index.check_args(params["extra_args"])
    except _index.IndexError_ as exc:
        module.fail_json(msg=str(exc))

    if params["background"] and not module.check_mode:
        try:
            jobs = _safepath.root_dir_fd(params["lock_dir"], _safepath.Walker())
            # The packaging import a finished install needs comes from the host, not this payload.
            _venv.requirement_class(venv)
            job = _job.start(jobs, "job" + lock_name(venv)[len("venv"):-len(".lock")], params["job_timeout"],
                             lambda: work(module, params, sources), _index.redact)
            os.close(jobs)
        except _safepath.UnsafePath as exc:
            module.fail_json(msg=str(exc))
        _job.answer_and_leave(module, changed=False, job=os.path.join(params["lock_dir"], job))
    work(module, params, sources)


def work(module, params, sources):
    """Take the venv's lock, install, answer (exit_json or fail_json)."""
    walker = _safepath.Walker(check_mode=module.check_mode)
    lock = None
    try:
        lock_dir = _safepath.root_dir_fd(params["lock_dir"], walker)
        if lock_dir is not None:
            lock = _safepath.open_lock(lock_dir, lock_name(params["path"]))
            os.close(lock_dir)
            # A run killed mid-install leaves its installer going; this one waits for it.
            fcntl.flock(lock, fcntl.LOCK_EX)
        result = run(module, params, sources, walker)
        _job.disarm()
    except (_safepath.UnsafePath, _uv.UvError, ValueError) as exc:
        module.fail_json(msg=_index.redact(str(exc)))
    except _job.Timeout as exc:
        module.fail_json(msg=f"the install into {params['path']} {exc}; the next run installs what is missing")
    finally:
        if lock is not None:
            os.close(lock)
    module.exit_json(**result)


def run(module, params, sources, walker) -> dict:
    venv, installer = params["path"], params["installer"]
    state = _venv.read(venv, installer, params["requirements"], params["uv_version"])
    steps = _venv.plan(state, params["state"], installer, params["uv_version"])
    actions = []
    if steps["create"]:
        actions.append("create the venv")
    if steps["fetch_uv"]:
        actions.append(f"fetch uv {params['uv_version'] or '(newest)'}")
    if steps["install"]:
        verb = "reinstall" if steps["reinstall"] else "upgrade" if steps["upgrade"] else "install"
        actions.append(f"{verb} {', '.join(steps['install'])}")
    result = {"installed": state["installed"], "requirements": state["requirements"], "complete": state["complete"],
              "uv_version": state["uv_version"] or "", "actions": actions, "packages_changed": False, "changed": False}

    if module.check_mode:
        nothing_new = steps["upgrade"] and not steps["create"] and not steps["reinstall"] and all(
            info["satisfied"] for info in state["requirements"].values())
        if nothing_new:
            # Only the index knows whether latest would move anything.
            moves = predict_latest(module, params, state)
            result["actions"] = [f"upgrade {move}" for move in moves]
            result["changed"] = result["packages_changed"] = bool(moves)
        else:
            result["changed"] = bool(steps["create"] or steps["install"])
            result["packages_changed"] = bool(steps["install"])
        return result

    if not steps["install"] and not steps["create"]:
        return result

    if steps["create"]:
        # Root installs code here that the server runs: nobody else may be able to swap its parent.
        parent = walker.open_dir(os.path.dirname(venv), create=(0, 0, 0o755))
        try:
            if not _safepath.trusted(os.fstat(parent)):
                raise _safepath.UnsafePath(f"{os.path.dirname(venv)} (the venv's parent) can be written by others than root")
        finally:
            os.close(parent)
        argv = [module.get_bin_path(params["python"], required=True), "-m", "venv"]
        argv += ["--without-pip"] if installer == "uv" else []
        rc, out, err = module.run_command(argv + [venv])
        if rc != 0:
            module.fail_json(msg=f"could not make the venv {venv}: {err.strip() or out.strip()}", **result)
        result["changed"] = True
    if steps["install"] and (steps["fetch_uv"] or (installer == "uv" and not os.access(os.path.join(venv, "bin", "uv"), os.X_OK))):
        fetched = _uv.fetch(os.path.join(venv, "bin", "uv"), sources, params["uv_version"])
        result["uv_version"] = fetched["version"]
        result["changed"] = True
    if not steps["install"]:
        return result

    before = state["installed"]
    _venv.write_started(venv, before)
    uv_now = result["uv_version"] or None
    locked = _write_lock(params) if params["lock"] else None
    try:
        argv = _venv.installer_argv(venv, installer, steps, params["extra_args"], locked)
        proc = subprocess.run(argv, capture_output=True, text=True, check=False,
                              env=_venv.installer_env(installer, params["index_url"], uv_now))
    finally:
        if locked:
            os.unlink(locked)
    after = _venv.installed(venv)
    _venv.finish(venv, proc.returncode == 0, before, after)
    result.update(installed=after, requirements=_venv.evaluate(params["requirements"], after, venv),
                  complete=_venv.install_complete(venv, after), packages_changed=after != before,
                  stdout_lines=_venv.tail(proc.stdout), stderr_lines=_venv.tail(proc.stderr))
    result["changed"] = result["changed"] or result["packages_changed"]
    if proc.returncode != 0:
        satisfied = all(info["satisfied"] for info in result["requirements"].values())
        if steps["upgrade"] and satisfied and after == before and result["complete"]:
            result["upgrade_error"] = (f"{installer} could not look for newer releases (exit {proc.returncode}); the "
                                       f"venv keeps its versions, which satisfy every requirement: "
                                       + " ".join(_venv.tail(proc.stderr, 5)))
            module.warn(result["upgrade_error"])
            return result
        kept = ("holds nothing yet" if not before else "keeps what it had" if result["complete"]
                else "is incomplete and will be installed again")
        module.fail_json(msg=f"{installer} failed (exit {proc.returncode}); the venv {kept}: "
                             + "\n".join(_venv.tail(proc.stderr, 15)), **result)
    return result


if __name__ == "__main__":
    main()
