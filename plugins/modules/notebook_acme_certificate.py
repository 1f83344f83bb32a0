#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_acme_certificate
short_description: Have certbot get the Jupyter server's certificate from an ACME directory, and put it live
version_added: 0.3.0
author: nbops.jupyter contributors (@nbops)
description:
  - Reads certbot's lineage O(name) and asks O(directory) again (C(certbot certonly), with the
    certbot settings in O(config)) when it is missing, expires within O(renew_days), carries other
    names than O(names) or another key type, or comes from another directory. Otherwise asks nothing.
  - Before asking, checks that the directory answers (trusting O(ca_bundle) when given), so an
    unreachable or mistyped directory fails with a message naming it and changes nothing.
  - When certbot fails, nothing changes either - the pair the server reads keeps serving - and the
    message carries the end of certbot's output.
  - Puts certbot's current pair live with O(deploy_hook) when the live pair is not it (certbot
    runs the same hook after each issue and each unattended renewal).
  - Only the certificate request and the answers to the challenge leave the host; the key is made by certbot on the host.
options:
  name:
    description: certbot's name for the lineage (C(--cert-name)).
    type: str
    required: true
  names:
    description: DNS names of the certificate.
    type: list
    elements: str
    required: true
  directory:
    description: The ACME directory URL.
    type: str
    required: true
  config:
    description: certbot's settings for this lineage (a root-only file, it may hold the EAB key).
    type: path
    required: true
  deploy_hook:
    description: The script that puts a lineage's pair live (run with C(RENEWED_LINEAGE)).
    type: path
    required: true
  tls_dir:
    description: The role's TLS directory; its C(live/cert.pem) is what the server serves.
    type: path
    required: true
  ca_bundle:
    description: A CA file on the host to trust for the directory's own HTTPS (an internal ACME CA).
    type: path
  key_type:
    description: The key type certbot makes (see O(config)), compared with the lineage's.
    type: str
    choices: [ecdsa, rsa]
    default: ecdsa
  rsa_bits:
    description: The RSA key size with O(key_type=rsa).
    type: int
    default: 3072
  renew_days:
    description: Ask again when the certificate expires within this many days.
    type: int
    default: 30
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
    details: Reports the reasons it would ask the directory, and asks nothing.
  diff_mode:
    support: none
requirements:
  - Debian's certbot on the host
seealso:
  - module: nbops.jupyter.notebook_host_info
  - module: nbops.jupyter.notebook_certificate
"""

EXAMPLES = r"""
- name: Get or keep the ACME certificate
  nbops.jupyter.notebook_acme_certificate:
    name: jupyter-notebook
    names: [nb1.example.org]
    directory: https://acme-v02.api.letsencrypt.org/directory
    config: /etc/letsencrypt/nbops/jupyter-notebook/cli.ini
    deploy_hook: /etc/letsencrypt/nbops/jupyter-notebook/deploy-hook
    tls_dir: /etc/jupyter-notebook/tls
"""

RETURN = r"""
reasons:
  description: Why the directory was (or in check mode would be) asked; empty when it was not.
  returned: always
  type: list
  elements: str
deployed:
  description: Whether certbot's pair was put live by this run.
  returned: always
  type: bool
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate now live (empty when none is).
  returned: always
  type: str
not_after:
  description: Expiry of certbot's certificate, as openssl prints it.
  returned: when certbot holds one
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _acme, _tls


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "names": {"type": "list", "elements": "str", "required": True},
            "directory": {"type": "str", "required": True},
            "config": {"type": "path", "required": True},
            "deploy_hook": {"type": "path", "required": True},
            "tls_dir": {"type": "path", "required": True},
            "ca_bundle": {"type": "path"},
            "key_type": {"type": "str", "choices": ["ecdsa", "rsa"], "default": "ecdsa"},
            "rsa_bits": {"type": "int", "default": 3072},
            "renew_days": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    p = module.params
    live_cert = os.path.join(p["tls_dir"], "live", "cert.pem")
    bundle = None
    if p["ca_bundle"] and os.path.isfile(p["ca_bundle"]):  # in check mode on a fresh host it isn't written yet
        with open(p["ca_bundle"], encoding="ascii") as fh:
            bundle = fh.read()
    found = _acme.inspect(p["name"], p["names"], p["directory"], p["key_type"], p["rsa_bits"], p["renew_days"], live_cert,
                          ca_pem=bundle, probe=not module.check_mode)
    reasons, deploy = found["reasons"], found["deploy_needed"]
    env = {"REQUESTS_CA_BUNDLE": p["ca_bundle"]} if p["ca_bundle"] else {}
    if reasons and not module.check_mode:
        if found["unresolved"]:
            module.fail_json(msg=f"notebook_tls_extra_names / the host's FQDN: {', '.join(found['unresolved'])} does not "
                                 "resolve on this host, so HTTP-01 can't validate it. Nothing was changed; the certificate "
                                 "served now keeps serving.", reasons=reasons)
        problem = found["directory_problem"]
        if problem:
            module.fail_json(msg=f"notebook_acme_directory {p['directory']} can't be used from this host: {problem}. "
                                 "Nothing was changed; the certificate served now keeps serving.", reasons=reasons)
        rc, out, err = module.run_command(
            ["certbot", "certonly", "--config", p["config"], "--cert-name", p["name"], "--force-renewal",
             "--domains", ",".join(p["names"])], environ_update=env)
        if rc != 0:
            tail = "\n".join((out + err).strip().splitlines()[-15:])
            module.fail_json(msg=f"notebook_acme_directory {p['directory']} gave no certificate for {', '.join(p['names'])} "
                                 f"(each name must resolve to this host, reachable from the ACME server on the HTTP-01 "
                                 f"port): certbot said:\n{tail}\nThe certificate served now keeps serving.", reasons=reasons)
        deploy = _tls.fingerprint(os.path.join(_acme.ROOT, "live", p["name"], "fullchain.pem")) != \
            (_tls.fingerprint(live_cert) if os.path.exists(live_cert) else "")
    if deploy and not module.check_mode:
        rc, out, err = module.run_command([p["deploy_hook"]], environ_update={
            "RENEWED_LINEAGE": os.path.join(_acme.ROOT, "live", p["name"]), **env})
        if rc != 0:
            module.fail_json(msg=f"{p['deploy_hook']} failed to put the certificate live: {(out + err).strip()[-500:]}")
    result = {"changed": bool(reasons or deploy), "reasons": reasons, "deployed": bool(deploy) and not module.check_mode,
              "fingerprint_sha256": _tls.fingerprint(live_cert) if os.path.exists(live_cert) else ""}
    again = _acme.inspect(p["name"], p["names"], p["directory"], p["key_type"], p["rsa_bits"], p["renew_days"], live_cert,
                          probe=False)
    if again["not_after"]:
        result["not_after"] = again["not_after"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
