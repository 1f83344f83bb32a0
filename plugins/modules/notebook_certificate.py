#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_certificate
short_description: Make the Jupyter server's certificate with openssl on the host, ask a CA for one, or put a provided one live
version_added: 0.2.0
author: nbops.jupyter contributors (@nbops)
description:
  - With O(provider=self_signed), inspects C(<path>/live/cert.pem) and C(<path>/live/key.pem) and
    makes a new self-signed certificate with the openssl CLI when they are missing, don't match,
    expire within O(renew_days), live longer than O(valid_days), carry other names than O(names),
    or another key type; a change of names alone keeps the key. Otherwise changes nothing.
  - With O(provider=request), decides as with V(self_signed), and also makes a new certificate when
    the live chain does not carry the CA of O(ca_fingerprint); then makes the key (or keeps the live
    one when only names changed) in C(<path>/request/) and returns a certificate signing request
    (RV(csr)) for P(nbops.jupyter.notebook_ca_sign#module) on the controller.
  - With O(provider=signed), puts O(certificate) (signed for the waiting request) live with the
    request's key.
  - With O(provider=client), keeps or makes the host's own client certificate (self-signed,
    C(clientAuth), key readable by root only) in O(path), for the health gate of a server that asks
    for client certificates; returns it (RV(certificate)).
  - With O(provider=provided), puts O(certificate) and O(private_key) (checked on the controller
    before, for example with P(nbops.jupyter.tls_pair#filter)) live together, unless the live
    pair is already this one.
  - The key is made on the host and never leaves it. The certificate carries the names as
    subjectAltNames, C(serverAuth), C(CA:FALSE) and a critical keyUsage, so it verifies strictly as
    its own trust anchor.
  - Key and certificate are made in a new C(gen-*) directory and made live by renaming one
    symlink, so a server that reads them on each connection never sees a mixed pair and needs no
    restart. Concurrent runs take turns on a lock in O(lock_dir).
options:
  path:
    description: The root-owned TLS directory (made by the role, C(0750)).
    type: path
    required: true
  provider:
    description: Where the certificate comes from.
    type: str
    choices: [self_signed, request, signed, provided, client]
    default: self_signed
  names:
    description: With O(provider=self_signed) or V(request), DNS names and IP addresses for the subjectAltName.
    type: list
    elements: str
  common_name:
    description: With O(provider=self_signed) or V(request), the subject's CN (cut to 64 characters).
    type: str
  ca_fingerprint:
    description: With O(provider=request), the SHA-256 fingerprint of the CA that must have issued the live certificate.
    type: str
  certificate:
    description:
      - With O(provider=provided) or V(signed), the PEM certificate chain, leaf first. Other PEM blocks in the text
        (a key, in a combined file) are left out.
    type: str
  private_key:
    description:
      - With O(provider=provided), the PEM private key without a passphrase. Other PEM blocks in the text
        (the certificates, in a combined file) are left out.
    type: str
  key_type:
    description: ECDSA P-256 or RSA.
    type: str
    choices: [ecdsa, rsa]
    default: ecdsa
  rsa_bits:
    description: The RSA key size with O(key_type=rsa).
    type: int
    default: 3072
  valid_days:
    description: Validity in days.
    type: int
    default: 200
  renew_days:
    description: Make it again when it expires within this many days.
    type: int
    default: 30
  group:
    description: The group that may read the key (the server's).
    type: str
    required: true
  lock_dir:
    description: A root-owned C(0700) directory for the lock, made when missing.
    type: path
    default: /run/nbops-jupyter
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
requirements:
  - the openssl CLI on the host
seealso:
  - module: nbops.jupyter.notebook_host_info
"""

EXAMPLES = r"""
- name: Make or keep the self-signed certificate
  nbops.jupyter.notebook_certificate:
    path: /etc/jupyter-notebook/tls
    names: [nb1.example.org, nb1, localhost, 127.0.0.1, "::1"]
    common_name: nb1.example.org
    group: jupyter
  register: cert

- name: Show its fingerprint
  ansible.builtin.debug:
    msg: "{{ cert.fingerprint_sha256 }}"

- name: Put a provided pair live (one combined file holding key and chain works too)
  nbops.jupyter.notebook_certificate:
    path: /etc/jupyter-notebook/tls
    provider: provided
    certificate: "{{ lookup('ansible.builtin.file', 'files/nb1.pem') }}"
    private_key: "{{ lookup('ansible.builtin.file', 'files/nb1.key') }}"
    group: jupyter
  no_log: true
"""

RETURN = r"""
certificate:
  description: With O(provider=client), the client certificate (PEM, public).
  returned: with O(provider=client), not in check mode when one would be made
  type: str
csr:
  description: With O(provider=request), the certificate signing request (PEM) when one was made.
  returned: when a certificate is needed, not in check mode
  type: str
reasons:
  description: Why it was (or in check mode would be) made again; empty when it was kept.
  returned: always
  type: list
  elements: str
  sample: [names changed]
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate now live (in check mode, of the one kept; empty when one would be made).
  returned: always
  type: str
  sample: "AB:CD:..."
not_after:
  description: Expiry of the live certificate, as openssl prints it.
  returned: when a certificate is live
  type: str
names:
  description: The subjectAltNames of the live certificate, normalized (C(DNS:name), C(IP:address)).
  returned: when a certificate is live
  type: list
  elements: str
cert:
  description: Path of the live certificate.
  returned: always
  type: str
key:
  description: Path of the live key.
  returned: always
  type: str
"""

import fcntl
import grp
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _safepath, _tls


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "provider": {"type": "str", "choices": ["self_signed", "request", "signed", "provided", "client"], "default": "self_signed"},
            "names": {"type": "list", "elements": "str"},
            "common_name": {"type": "str"},
            "ca_fingerprint": {"type": "str"},
            "certificate": {"type": "str", "no_log": True},
            "private_key": {"type": "str", "no_log": True},
            "key_type": {"type": "str", "choices": ["ecdsa", "rsa"], "default": "ecdsa"},
            "rsa_bits": {"type": "int", "default": 3072},
            "valid_days": {"type": "int", "default": 200},
            "renew_days": {"type": "int", "default": 30},
            "group": {"type": "str", "required": True},
            "lock_dir": {"type": "path", "default": "/run/nbops-jupyter"},
        },
        required_if=[("provider", "self_signed", ("names", "common_name")),
                     ("provider", "client", ("common_name",)),
                     ("provider", "request", ("names", "common_name", "ca_fingerprint")),
                     ("provider", "signed", ("certificate",)),
                     ("provider", "provided", ("certificate", "private_key"))],
        supports_check_mode=True,
    )
    params = module.params
    directory = params["path"].rstrip("/")
    cert, key = os.path.join(directory, "live", "cert.pem"), os.path.join(directory, "live", "key.pem")
    walker = _safepath.Walker(check_mode=module.check_mode)
    lock = None
    try:
        gid = grp.getgrnam(params["group"]).gr_gid
    except KeyError:
        if not module.check_mode:
            module.fail_json(msg=f"group {params['group']} does not exist")
        gid = 0
    try:
        # The health gate's own client certificate lives in a root-only directory made here.
        create = (0, 0, 0o700) if params["provider"] == "client" else None
        tls_dir = walker.open_dir(directory, create=create) if os.path.isdir(directory) or not module.check_mode else None
        if tls_dir is not None:
            try:
                if not _safepath.trusted(os.fstat(tls_dir)):
                    raise _safepath.UnsafePath(f"{directory} can be written by others than root; the key lives there")
            finally:
                os.close(tls_dir)
        lock_dir = _safepath.root_dir_fd(params["lock_dir"], walker)
        if lock_dir is not None:
            lock = _safepath.open_lock(lock_dir, "tls" + directory.replace("/", "-") + ".lock")
            os.close(lock_dir)
            fcntl.flock(lock, fcntl.LOCK_EX)
        csr = None
        if params["provider"] == "client":
            found = _tls.inspect_client(directory, params["renew_days"] * 86400)
            reasons = [] if found["state"] == "valid" else [f"client certificate {found['state']}"]
            pem = found["pem"]
            if reasons and not module.check_mode:
                pem = _tls.make_client(directory, params["common_name"], params["valid_days"])
            module.exit_json(changed=bool(reasons), reasons=reasons, certificate=pem,
                             cert=os.path.join(directory, "cert.pem"), key=os.path.join(directory, "key.pem"))
        if params["provider"] == "provided":
            reasons = provided(module, directory, gid)
        elif params["provider"] == "request":
            reasons, csr = request(module, directory, cert, key)
        elif params["provider"] == "signed":
            reasons = ["signed by the CA"]
            if not module.check_mode:
                _tls.install_signed(directory, _tls.pem_blocks(params["certificate"], "CERTIFICATE"), gid)
        else:
            reasons = self_signed(module, directory, cert, key, gid)
        found = _tls.inspect(cert, key, params["renew_days"] * 86400)
    except (_safepath.UnsafePath, OSError, RuntimeError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    finally:
        if lock is not None:
            os.close(lock)
    result = {"changed": bool(reasons), "reasons": reasons, "cert": cert, "key": key,
              "fingerprint_sha256": found.get("fingerprint_sha256", "") if not (reasons and module.check_mode) else ""}
    if "names" in found:
        result.update(names=found["names"], not_after=found["not_after"])
    if csr:
        result["csr"] = csr
    module.exit_json(**result)


def self_signed(module, directory: str, cert: str, key: str, gid: int) -> list[str]:
    params = module.params
    found = _tls.inspect(cert, key, params["renew_days"] * 86400)
    reasons = _tls.renewal_reasons(found, params["names"], params["key_type"], params["rsa_bits"], params["valid_days"])
    if reasons and not module.check_mode:
        _tls.make_self_signed(directory, params["names"], params["common_name"], params["key_type"], params["rsa_bits"],
                              params["valid_days"], gid, reuse_key=key if _tls.keeps_key(reasons) else None)
    return reasons


def request(module, directory: str, cert: str, key: str) -> tuple[list[str], str | None]:
    """Why a new certificate is needed, and a request for it (none in check mode or when not)."""
    params = module.params
    found = _tls.inspect(cert, key, params["renew_days"] * 86400)
    reasons = _tls.renewal_reasons(found, params["names"], params["key_type"], params["rsa_bits"], params["valid_days"],
                                   ca_fingerprint=params["ca_fingerprint"])
    if not reasons or module.check_mode:
        return reasons, None
    return reasons, _tls.make_request(directory, params["common_name"], params["key_type"], params["rsa_bits"],
                                      reuse_key=key if _tls.keeps_key(reasons) else None)


def provided(module, directory: str, gid: int) -> list[str]:
    """The certificates and the key out of whatever PEM text the user's files held."""
    certificate = _tls.pem_blocks(module.params["certificate"], "CERTIFICATE")
    private_key = _tls.pem_blocks(module.params["private_key"], "PRIVATE KEY")
    if not certificate or private_key.count("-----BEGIN") != 1:
        raise ValueError("the provided files must hold certificates and exactly one private key")
    live = os.path.join(directory, "live")
    try:
        with open(os.path.join(live, "cert.pem"), encoding="ascii") as fh_cert, \
                open(os.path.join(live, "key.pem"), encoding="ascii") as fh_key:
            if fh_cert.read() == certificate and fh_key.read() == private_key:
                return []
    except OSError:
        pass
    if not module.check_mode:
        _tls.install_provided(directory, certificate, private_key, gid)
    return ["the provided certificate or key changed"]


if __name__ == "__main__":
    main()
