#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_host_info
short_description: Everything the notebook role decides on, read from the host in one call
version_added: 0.2.0
author: nbops.jupyter contributors (@nbops)
description:
  - Answers, without changing anything, every question the C(nbops.jupyter.notebook) role asks
    before it acts - which OS packages are there, what the virtualenv holds and what an install
    would do, the service account, which of the role's paths are missing or off (links included),
    checksums of the files it renders, the certificate and whether it must be made again, the
    password hash already deployed, leftover config, and the service, including a restart an
    earlier run left pending.
  - With O(facts), also the few facts the role reads (as P(nbops.jupyter.notebook_facts#module) gives them).
  - With O(stamp.recorded), the host is read with the options the converged-host stamp recorded, where it recorded
    the host's facts - before the controller has worked out any option, or its inputs' digest, itself; on a converged
    host this is the one call the role makes.
  - The answer carries the deployed password hash; use C(no_log) on the task.
options:
  packages:
    description: Debian packages to look for.
    type: list
    elements: str
    default: []
  venv:
    description:
      - The virtualenv and what it should hold. O(venv), O(account) and O(service) go together - the host is read
        with them, or (without them) with O(stamp.recorded), or not at all (O(facts) only).
    type: dict
    suboptions:
      path:
        description: The virtualenv's directory.
        type: path
        required: true
      installer:
        description: V(uv) or V(pip); a uv venv is whole with C(bin/python), a pip one with C(bin/pip).
        type: str
        choices: [uv, pip]
        default: uv
      requirements:
        description: PEP 508 requirements.
        type: list
        elements: str
        default: []
      uv_version:
        description: The uv release wanted (empty, any).
        type: str
        default: ""
  account:
    description: The service account as the role makes it (see O(venv)).
    type: dict
    suboptions:
      user:
        description: User name.
        type: str
        required: true
      group:
        description: Its primary group.
        type: str
        required: true
      home:
        description: Its home directory.
        type: path
        required: true
      shell:
        description: Its login shell.
        type: str
        default: /usr/sbin/nologin
  paths:
    description: Paths the role makes, as P(nbops.jupyter.notebook_paths#module) takes them.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner.
        type: str
        required: true
      group:
        description: Group.
        type: str
        required: true
      mode:
        description: Octal mode string.
        type: str
        required: true
      state:
        description: V(directory) or V(file).
        type: str
        choices: [directory, file]
        default: directory
  rendered:
    description: Files the role renders from templates; each gets its sha1 when owner and mode are right.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Path on the host.
        type: path
        required: true
      owner:
        description: Owner.
        type: str
        required: true
      group:
        description: Group.
        type: str
        required: true
      mode:
        description: Octal mode string.
        type: str
        required: true
      src:
        description: The template it comes from (not read here; lets one list serve both tasks).
        type: str
  stray_config_dirs:
    description:
      - Directories of Jupyter config besides the role's own (system and user paths); every file in
        them is reported as a warning, and in C(stray_config). The venv's C(etc/jupyter) is checked too;
        files there that no installed distribution's RECORD lists are reported as read by the server.
    type: list
    elements: path
    default: []
  owners:
    description: Paths whose kind and owner to report (the user's directories, before the role claims them).
    type: list
    elements: path
    default: []
  config_files:
    description: Config files either Notebook version would read; the ones present are returned, JSON ones with the hashes they hold.
    type: list
    elements: path
    default: []
  service:
    description: The systemd service (see O(venv)).
    type: dict
    suboptions:
      name:
        description: Unit name without C(.service).
        type: str
        required: true
      restart_files:
        description: Files (and directories) the server reads at start; one newer than the running process means a restart is pending.
        type: list
        elements: path
        default: []
  fail2ban:
    description: Also report fail2ban's service and the jails it runs.
    type: bool
    default: false
  proxy:
    description:
      - A reverse proxy's systemd unit (such as C(nginx)), without C(.service), to report the state of, with
        the kernel's C(fs.protected_symlinks) setting.
    type: str
    version_added: 0.4.0
  tls:
    description: The certificate to inspect; omit for plain HTTP.
    type: dict
    suboptions:
      cert:
        description: The certificate (chain) file.
        type: path
        required: true
      key:
        description: The key file.
        type: path
        required: true
      renew_days:
        description: A certificate that expires within this many days is reported as expiring.
        type: int
        default: 30
      names:
        description: With a self-signed certificate, the names it must carry; reasons to make it again are returned.
        type: list
        elements: str
      key_type:
        description: The key type it must have.
        type: str
        choices: [ecdsa, rsa]
        default: ecdsa
      rsa_bits:
        description: The RSA key size it must have.
        type: int
        default: 3072
      valid_days:
        description: The longest life it may have, in days (a longer one is a reason to make it again).
        type: int
      ca_fingerprint:
        description:
          - The SHA-256 fingerprint of the private CA that must have issued it (its certificate in the
            chain); without it, the certificate must be self-signed.
        type: str
      client_dir:
        description: With mutual TLS, the directory of the host's own client certificate (C(tls.client) in the answer).
        type: path
  acme:
    description: With certificates from an ACME directory, certbot's lineage to inspect.
    type: dict
    suboptions:
      name:
        description: certbot's name for the lineage.
        type: str
        required: true
      names:
        description: The names the certificate must carry.
        type: list
        elements: str
        required: true
      directory:
        description: The ACME directory it must come from.
        type: str
        required: true
      key_type:
        description: The key type it must have.
        type: str
        choices: [ecdsa, rsa]
        default: ecdsa
      rsa_bits:
        description: The RSA key size with O(acme.key_type=rsa).
        type: int
        default: 3072
      renew_days:
        description: A certificate that expires within this many days is a reason to ask again.
        type: int
        default: 30
      live_cert:
        description: The certificate the server serves (compared with certbot's current one).
        type: path
        required: true
      ca_pem:
        description: The CA (PEM) that signs the directory's own HTTPS certificate, to trust when checking that the directory answers.
        type: str
  kernels:
    description:
      - Extra kernels (the role's C(notebook_kernels)) - each Python kernel's venv read like O(venv), and the kernels
        found on disk that are no longer wanted.
    type: dict
    suboptions:
      venvs_dir:
        description: The directory holding one venv per Python kernel, named after the kernel.
        type: path
        required: true
      specs_dir:
        description: The directory holding one kernelspec directory per kernel, named after the kernel.
        type: path
        required: true
      python:
        description: The Python kernels wanted, each with its C(name) and C(requirements).
        type: list
        elements: dict
        default: []
      names:
        description: The names of every kernel wanted (Python and Debian-packaged).
        type: list
        elements: str
        default: []
      installer:
        description: As O(venv.installer).
        type: str
        choices: [uv, pip]
        default: uv
      uv_version:
        description: As O(venv.uv_version).
        type: str
        default: ""
  facts:
    description:
      - Also return C(fqdn), C(hostname), C(architecture), C(python), C(os_family), C(distribution),
        C(distribution_major_version) and C(service_mgr) in RV(ansible_facts), as P(nbops.jupyter.notebook_facts#module)
        works them out.
    type: bool
    default: false
    version_added: 0.4.0
  stamp:
    description:
      - The mark of a converged host, kept in a root-only file - a record of O(stamp.inputs), the host's facts, the
        reading options and the digest of those and of the answer. C(stamp.matches) in the answer says whether the file
        holds the digest of this call, that is whether the host is as a finished run with these inputs left it.
      - With O(stamp.write), the record of the host as it is now is written there when its digest is the one the
        run started from (O(stamp.expect)); the role does that at the end of a run that got through.
    type: dict
    version_added: 0.4.0
    suboptions:
      path:
        description: The file, in a directory that only root may own and write (made C(0700) when missing).
        type: path
        required: true
      inputs:
        description:
          - The digest of what decides the role on the controller (P(nbops.jupyter.inputs_digest#filter)), without
            the facts listed at O(facts), which this module works out and records itself. Required with the reading
            options; not used with O(stamp.recorded).
        type: str
        default: ""
      facts:
        description:
          - With O(stamp.write), the facts the controller worked the reading options out from; the record is not
            written where the host's facts are others by then.
        type: dict
      recorded:
        description:
          - Read the host with the options the stamp recorded, where the host's facts are those it recorded
            (C(stamp.facts_match)); otherwise read nothing. The reading options are then left out. The answer's
            C(stamp.inputs) is the inputs' digest the stamp recorded, for the controller to compare with its own.
            A record whose options this module would refuse is none.
        type: bool
        default: false
      write:
        description: Write the record (not in check mode) when its digest equals O(stamp.expect).
        type: bool
        default: false
      expect:
        description:
          - With O(stamp.write), the digest the run's first call found. The stamp is written only when the host is
            found as it was then, so it marks a run that was seen to change nothing, not one that only got through.
        type: str
        default: ""
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
    details: Read-only, except for the stamp that O(stamp.write) writes, which check mode leaves alone.
  diff_mode:
    support: none
seealso:
  - module: nbops.jupyter.notebook_venv
  - module: nbops.jupyter.notebook_paths
  - module: nbops.jupyter.notebook_certificate
"""

EXAMPLES = r"""
- name: Gather the facts, and read the host as the last run seen to change nothing did
  nbops.jupyter.notebook_host_info:
    facts: true
    stamp: {path: /run/nbops-jupyter/converged-jupyter-notebook, recorded: true}
  register: start
  no_log: true

- name: Read the host's state
  nbops.jupyter.notebook_host_info:
    packages: [openssl]
    venv: {path: /opt/jupyter-notebook/venv, requirements: [notebook]}
    account: {user: jupyter, group: jupyter, home: /var/lib/jupyter-notebook}
    service: {name: jupyter-notebook, restart_files: [/etc/jupyter-notebook/jupyter_server_config.json]}
    tls:
      cert: /etc/jupyter-notebook/tls/live/cert.pem
      key: /etc/jupyter-notebook/tls/live/key.pem
      names: [localhost, 127.0.0.1]
  register: host
  no_log: true
"""

RETURN = r"""
ansible_facts:
  description:
    - With O(facts), the facts, named as M(ansible.builtin.setup) names them (without the C(ansible_) prefix), as
      P(nbops.jupyter.notebook_facts#module) returns them (see its sample).
  returned: when O(facts) is true
  type: dict
packages:
  description: The packages asked about that are installed.
  returned: when the host is read
  type: list
  elements: str
venv:
  description:
    - C(exists), C(installed) (name to version), C(complete), C(requirements) (per requirement
      C(name), C(version), C(satisfied)), C(uv_version), and C(plan), what an install with
      state present would do (C(create), C(fetch_uv), C(install), C(reinstall), C(upgrade)).
  returned: when the host is read
  type: dict
account:
  description:
    - C(user_ok), C(group_ok) (exist as the role makes them), C(user) (C(uid), C(gid), C(home), C(shell),
      C(login) - a person's account) and C(group) (C(gid), C(members), C(primary_of)) as they are now, or null.
  returned: when the host is read
  type: dict
stray_config:
  description: C(not_read), files in O(stray_config_dirs); C(read), files in the venv's C(etc/jupyter) no package installed.
  returned: when the host is read
  type: dict
owners:
  description: Per path of O(owners), null when missing, else C(kind) (directory, link, other), C(uid) and C(owner).
  returned: when the host is read
  type: dict
paths_to_fix:
  description: The paths that are missing, of another kind, owner or mode, or reached through an untrusted link.
  returned: when the host is read
  type: list
  elements: str
rendered:
  description: Per rendered file, its sha1, or null when missing or owner or mode are off.
  returned: when the host is read
  type: dict
config_files:
  description: The config files asked about that exist.
  returned: when the host is read
  type: list
  elements: str
hashes:
  description: Per JSON config file, the password hashes it holds.
  returned: when the host is read
  type: dict
service:
  description: C(active), C(enabled), C(main_pid), C(restart_pending) and C(restart_reasons).
  returned: when the host is read
  type: dict
fail2ban:
  description: C(active), C(enabled) (of its unit) and C(jails), the jails it runs (null when it doesn't answer).
  returned: when the host is read with O(fail2ban) true
  type: dict
kernels:
  description:
    - C(venvs), for each Python kernel of O(kernels.python) its venv as in RV(venv); C(stale), the
      kernel venvs and kernelspecs on disk that O(kernels.names) no longer lists.
  returned: when the host is read with O(kernels)
  type: dict
proxy:
  description:
    - C(active) and C(enabled) of the O(proxy) unit, and C(protected_symlinks), the kernel's
      C(fs.protected_symlinks) (-1 when it can't be read).
  returned: when the host is read with O(proxy)
  type: dict
instances:
  description:
    - The servers this collection runs on the host, read from their units and configs - C(service),
      C(config_dir), C(venv), C(home), C(root_dir), C(user) and C(port) of each.
  returned: when the host is read
  type: list
  elements: dict
tls:
  description:
    - C(state) (missing, unreadable, mismatch, expiring, valid), C(key_type), C(key_bits),
      C(names), C(not_after), C(fingerprint_sha256), C(file_sha256), C(self_issued), C(chain_fingerprints),
      and with O(tls.names) C(reasons) to make it again.
  returned: when the host is read with O(tls)
  type: dict
acme:
  description:
    - C(state), C(reasons) to ask the directory again (and, when there are some, C(directory_problem) and
      C(unresolved) names), C(names), C(not_after), C(deploy_needed)
      (the live pair is not certbot's current one) and C(renewal) (C(timer_active), C(timer_enabled),
      C(last_failed), C(last_run), C(last_status) of certbot's unattended renewals).
  returned: when the host is read with O(acme)
  type: dict
stamp:
  description:
    - C(digest), of O(stamp.inputs), the host's facts, the reading options and this answer (empty when nothing
      was read); C(matches), whether the stamp file held it; C(written), whether this call wrote it; with
      O(stamp.recorded), C(facts_match), whether the stamp recorded the host's facts (and so the host was read), and
      C(inputs), the inputs' digest it recorded (empty when there is no stamp only root could have left).
  returned: when O(stamp) is given
  type: dict
  version_added: 0.4.0
"""

import hashlib
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nbops.jupyter.plugins.module_utils import _facts, _host, _safepath, _stamp

_PATH = {
    "path": {"type": "path", "required": True},
    "owner": {"type": "str", "required": True},
    "group": {"type": "str", "required": True},
    "mode": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["directory", "file"], "default": "directory"},
}

# What to read: the options a reading takes, and the stamp's record keeps.
READING = {
    "packages": {"type": "list", "elements": "str", "default": []},
    "venv": {"type": "dict", "options": {
        "path": {"type": "path", "required": True},
        "installer": {"type": "str", "choices": ["uv", "pip"], "default": "uv"},
        "requirements": {"type": "list", "elements": "str", "default": []},
        "uv_version": {"type": "str", "default": ""},
    }},
    "account": {"type": "dict", "options": {
        "user": {"type": "str", "required": True},
        "group": {"type": "str", "required": True},
        "home": {"type": "path", "required": True},
        "shell": {"type": "str", "default": "/usr/sbin/nologin"},
    }},
    "paths": {"type": "list", "elements": "dict", "default": [], "options": _PATH},
    "rendered": {"type": "list", "elements": "dict", "default": [], "options": {
        "dest": {"type": "path", "required": True},
        "owner": {"type": "str", "required": True},
        "group": {"type": "str", "required": True},
        "mode": {"type": "str", "required": True},
        "src": {"type": "str"},
    }},
    "config_files": {"type": "list", "elements": "path", "default": []},
    "owners": {"type": "list", "elements": "path", "default": []},
    "stray_config_dirs": {"type": "list", "elements": "path", "default": []},
    "service": {"type": "dict", "options": {
        "name": {"type": "str", "required": True},
        "restart_files": {"type": "list", "elements": "path", "default": []},
    }},
    "fail2ban": {"type": "bool", "default": False},
    "proxy": {"type": "str"},
    "tls": {"type": "dict", "options": {
        "cert": {"type": "path", "required": True},
        "key": {"type": "path", "required": True},
        "renew_days": {"type": "int", "default": 30},
        "names": {"type": "list", "elements": "str"},
        "key_type": {"type": "str", "choices": ["ecdsa", "rsa"], "default": "ecdsa"},
        "rsa_bits": {"type": "int", "default": 3072},
        "valid_days": {"type": "int"},
        "ca_fingerprint": {"type": "str"},
        "client_dir": {"type": "path"},
    }},
    "kernels": {"type": "dict", "options": {
        "venvs_dir": {"type": "path", "required": True},
        "specs_dir": {"type": "path", "required": True},
        "python": {"type": "list", "elements": "dict", "default": []},
        "names": {"type": "list", "elements": "str", "default": []},
        "installer": {"type": "str", "choices": ["uv", "pip"], "default": "uv"},
        "uv_version": {"type": "str", "default": ""},
    }},
    "acme": {"type": "dict", "options": {
        "name": {"type": "str", "required": True},
        "names": {"type": "list", "elements": "str", "required": True},
        "directory": {"type": "str", "required": True},
        "key_type": {"type": "str", "choices": ["ecdsa", "rsa"], "default": "ecdsa"},
        "rsa_bits": {"type": "int", "default": 3072},
        "renew_days": {"type": "int", "default": 30},
        "live_cert": {"type": "path", "required": True},
        "ca_pem": {"type": "str"},
    }},
}
# Every reading needs these.
REQUIRED = ("venv", "account", "service")


def paths_to_fix(paths: list[dict]) -> list[str]:
    from grp import getgrnam
    from pwd import getpwnam

    fix = []
    for item in paths:
        try:
            uid, gid = getpwnam(item["owner"]).pw_uid, getgrnam(item["group"]).gr_gid
        except KeyError:
            fix.append(item["path"])
            continue
        if _safepath.differs(item["path"], item["state"], uid, gid, _safepath.parse_mode(item["mode"], item["path"])):
            fix.append(item["path"])
    return fix


def read(p: dict) -> dict:
    """The answer to the reading options ``p``. The parts of a mode the options leave out are not
    imported at all (modules from AnsiballZ's zip are compiled on every call)."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils import _venv

    venv = p["venv"]
    answer = {
        "packages": _host.packages(p["packages"]),
        "venv": _venv.read(venv["path"].rstrip("/"), venv["installer"], venv["requirements"], venv["uv_version"]),
        "account": _host.account(**p["account"]),
        "paths_to_fix": paths_to_fix(p["paths"]),
        "owners": _host.owners(p["owners"]),
        "instances": _host.instances(),
        "stray_config": _host.stray_config(p["stray_config_dirs"], venv["path"].rstrip("/")),
        "rendered": {item["dest"]: _host.rendered(item["dest"], item["owner"], item["group"], item["mode"])
                     for item in p["rendered"]},
        "config_files": [path for path in p["config_files"] if os.path.lexists(path)],
        "hashes": {path: _host.deployed_hashes(path) for path in p["config_files"] if path.endswith(".json")},
    }
    # The units in one systemctl call.
    units = _host.services([p["service"]["name"]] + (["fail2ban"] if p["fail2ban"] else []) + ([p["proxy"]] if p["proxy"] else []))
    answer["service"] = _host.service(units[p["service"]["name"]], p["service"]["restart_files"])
    if p["fail2ban"]:
        answer["fail2ban"] = {**_host.service(units["fail2ban"], []), "jails": _host.fail2ban_jails()}
    if p["proxy"]:
        answer["proxy"] = {**_host.service(units[p["proxy"]], []), "protected_symlinks": _host.protected_symlinks()}
    if p["tls"]:
        from ansible_collections.nbops.jupyter.plugins.module_utils import _tls

        tls = p["tls"]
        answer["tls"] = _tls.inspect(tls["cert"], tls["key"], tls["renew_days"] * 86400)
        if tls["names"] is not None:
            answer["tls"]["reasons"] = _tls.renewal_reasons(answer["tls"], tls["names"], tls["key_type"], tls["rsa_bits"],
                                                            tls["valid_days"], tls["ca_fingerprint"])
        if tls["client_dir"]:
            answer["tls"]["client"] = _tls.inspect_client(tls["client_dir"], tls["renew_days"] * 86400)
    if p["kernels"]:
        answer["kernels"] = _host.kernels(**p["kernels"])
    if p["acme"]:
        from ansible_collections.nbops.jupyter.plugins.module_utils import _acme

        answer["acme"] = _acme.inspect(**p["acme"])
    return answer


def stamp_digest(inputs: str, facts: dict, options: dict, answer: dict) -> str:
    """The digest of the controller's inputs, the host's facts, what was read and everything found."""
    found = answer
    if isinstance((answer.get("acme") or {}).get("renewal"), dict):
        # certbot's timer runs twice a day: when it last ran decides nothing (a failure does, and a renewal
        # shows in the lineage).
        renewal = {k: v for k, v in answer["acme"]["renewal"].items() if k not in ("last_run", "last_status")}
        found = {**answer, "acme": {**answer["acme"], "renewal": renewal}}
    body = json.dumps([facts, options, found], sort_keys=True, default=str)
    return hashlib.sha256(inputs.encode() + b"\0" + body.encode()).hexdigest()


def recorded_options(record: dict) -> dict | None:
    """The reading options a stamp recorded, checked as the module checks its own; None if they aren't."""
    options = record.get("options")
    if not isinstance(options, dict) or set(options) != set(READING):
        return None
    result = ArgumentSpecValidator(READING).validate(options)
    if result.error_messages or any(result.validated_parameters[name] is None for name in REQUIRED):
        return None
    return result.validated_parameters


def from_the_stamp(path: str, facts: dict) -> tuple[dict, dict]:
    """With O(stamp.recorded): the host read with the options the stamp recorded, when it recorded these facts
    (else nothing read), and the stamp part of the answer, with the inputs' digest it recorded for the
    controller to compare with its own."""
    record = _stamp.read(path)
    options = recorded_options(record) if record.get("facts") == facts else None
    if options is None:
        return {}, {"inputs": record.get("inputs", ""), "facts_match": False, "digest": "", "matches": False, "written": False}
    answer = read(options)
    digest = stamp_digest(record["inputs"], facts, options, answer)
    return answer, {"inputs": record["inputs"], "facts_match": True, "digest": digest, "matches": digest == record["digest"],
                    "written": False}


def main():
    module = AnsibleModule(
        argument_spec={
            **READING,
            "facts": {"type": "bool", "default": False},
            "stamp": {"type": "dict", "options": {
                "path": {"type": "path", "required": True},
                "inputs": {"type": "str", "default": ""},
                "facts": {"type": "dict"},
                "recorded": {"type": "bool", "default": False},
                "write": {"type": "bool", "default": False},
                "expect": {"type": "str", "default": ""},
            }},
        },
        supports_check_mode=True,
    )
    p = module.params
    stamp = p["stamp"]
    recorded = bool(stamp and stamp["recorded"])
    given = [name for name in REQUIRED if p[name] is not None]
    if recorded and (given or stamp["write"]):
        module.fail_json(msg="stamp.recorded reads the host with the options the stamp recorded: leave out venv, account, "
                             "service and the other reading options, and stamp.write")
    if not recorded and given and len(given) != len(REQUIRED) or (stamp and not recorded and not given):
        module.fail_json(msg="venv, account and service are required to read the host (or stamp.recorded)")
    if stamp and not recorded and not stamp["inputs"]:
        module.fail_json(msg="stamp.inputs is required to read the host with the options given")
    # The stamp records the facts: equal inputs on the controller mean equal options only for equal facts.
    facts = _facts.gather() if p["facts"] or stamp else None
    result = {"ansible_facts": facts} if p["facts"] else {}
    try:
        if recorded:
            answer, result["stamp"] = from_the_stamp(stamp["path"], facts)
        elif given:
            options = {name: p[name] for name in READING}
            answer = read(options)
            if stamp:
                result["stamp"] = mark(module, stamp, facts, options, answer)
        else:
            answer = {}
    except (ValueError, OSError, _safepath.UnsafePath) as exc:
        module.fail_json(msg=str(exc))
    result.update(answer)
    if stamp and stamp["write"]:
        # The run's first call warned already.
        module.exit_json(changed=False, **result)
    if (answer.get("acme") or {}).get("renewal", {}).get("last_failed"):
        renewal = answer["acme"]["renewal"]
        module.warn(f"certbot's last unattended renewal failed ({renewal['last_run']}, status {renewal['last_status']}): "
                    "see journalctl -u certbot.service")
    if (answer.get("stray_config") or {}).get("not_read"):
        module.warn("Jupyter config outside the role's directory, which this server does not read (other Jupyter "
                    "installs may): " + ", ".join(answer["stray_config"]["not_read"]))
    module.exit_json(changed=False, **result)


def mark(module: AnsibleModule, stamp: dict, facts: dict, options: dict, answer: dict) -> dict:
    """The stamp part of a reading with the options given; with O(stamp.write), the record written when the
    host is as the run's start found it and its facts are those the options were worked out from."""
    digest = stamp_digest(stamp["inputs"], facts, options, answer)
    written = (stamp["write"] and not module.check_mode and digest == stamp["expect"]
               and (stamp["facts"] is None or stamp["facts"] == facts))
    record = {"inputs": stamp["inputs"], "facts": facts, "options": options, "digest": digest}
    if written and not _stamp.write(stamp["path"], record):
        module.warn(f"The converged-host stamp's record is over {_stamp.MAX} bytes: not written, so every run of this "
                    "server is a whole one.")
        written = False
    matches = written or _stamp.read(stamp["path"]).get("digest") == digest
    return {"digest": digest, "matches": matches, "written": written}


if __name__ == "__main__":
    main()
