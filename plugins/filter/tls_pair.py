# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_pair
short_description: Check a provided TLS certificate and key on the controller before they are copied
version_added: 0.1.0
author: nbops.jupyter contributors
description:
  - Reads a PEM certificate file and its private key file on the controller and tells what would make
    the notebook server's handshakes fail, as a list of problems that name the variable to fix and how.
  - Problems are a missing or unreadable file, no certificate, more than one private key, a key with a
    passphrase, a key that does not belong to the first (leaf) certificate, a leaf that is expired or
    not yet valid, has no subjectAltName, is a CA certificate or is not for TLS servers, a chain in the
    wrong order, and a key type browsers or the server cannot use.
  - Usable keys are RSA of 2048 bits or more and ECDSA on P-256, P-384 or P-521. Ed25519, Ed448 and
    RSA-PSS keys work with OpenSSL clients but not with browsers; DSA and other curves with neither.
  - A file that holds the key and the certificates together is accepted as O(_input) with O(key) empty
    or the same file; RV(_value.certificate_pem) then gives the certificates without the key.
  - The private key never leaves the filter; the result holds nothing of it, and no message quotes it.
  - Relative paths are relative to the controller's current directory.
  - Files encrypted with Ansible Vault cannot be read; a vaulted certificate file is a problem, a vaulted
    key file a warning that the key was not checked.
positional: key
options:
  _input:
    description: Path of the PEM certificate file, the server's certificate first, then its chain.
    type: path
    required: true
  key:
    description:
      - Path of the PEM private key file.
      - Empty when the key is in the O(_input) file.
    type: path
    default: ""
  names:
    description:
      - DNS names and IP addresses the host is known by, for example its FQDN.
      - When the certificate covers none of them, RV(_value.warnings) says so.
    type: list
    elements: string
  renew_days:
    description:
      - Warn when the certificate expires within this many days; V(0) never warns.
    type: integer
    default: 0
requirements:
  - cryptography on the controller (a dependency of ansible-core)
"""

EXAMPLES = r"""
- name: Check the provided certificate and key
  ansible.builtin.set_fact:
    __tls_pair: >-
      {{ notebook_tls_cert | nbops.jupyter.tls_pair(notebook_tls_key, names=[ansible_facts['fqdn']],
                                                    renew_days=notebook_tls_renew_days) }}

- name: Stop on what would break the handshakes
  ansible.builtin.assert:
    that: __tls_pair.problems | length == 0
    fail_msg: "{{ __tls_pair.problems | join('; ') }}"
    quiet: true

- name: Copy only the certificates of a file that holds the key too
  ansible.builtin.copy:
    content: "{{ __tls_pair.certificate_pem }}"
    dest: /etc/jupyter/tls/cert.pem
    mode: "0644"
"""

RETURN = r"""
_value:
  description: What is wrong with the pair, and facts about it; nothing of the private key.
  type: dict
  contains:
    problems:
      description:
        - What would make handshakes fail, each naming C(notebook_tls_cert) or C(notebook_tls_key) and what to do.
        - Empty when the pair is usable.
      type: list
      elements: string
    warnings:
      description:
        - Not fatal, for example expiry within O(renew_days) or a certificate that covers none of O(names).
      type: list
      elements: string
    combined:
      description: Whether the key came from the O(_input) file.
      type: boolean
    fingerprint_sha256:
      description:
        - SHA-256 fingerprint of the leaf, as C(openssl x509 -noout -fingerprint -sha256) prints it.
        - V(null) when no certificate could be read.
      type: string
      sample: "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
    not_after:
      description: When the leaf expires, ISO 8601 in UTC; V(null) without a certificate.
      type: string
      sample: "2027-01-31T12:00:00Z"
    names:
      description:
        - The leaf's subjectAltName entries, sorted, in the form of P(nbops.jupyter.subject_alt_names#filter).
      type: list
      elements: string
      sample: ["DNS:host.example.org", "IP:192.0.2.10"]
    key_type:
      description: Type of the leaf's key, such as V(rsa), V(ecdsa), V(ed25519); V(null) without a certificate.
      type: string
    key_bits:
      description: Size of the leaf's key in bits; V(null) without a certificate.
      type: integer
    chain_length:
      description: How many certificates the file holds.
      type: integer
    certificate_pem:
      description:
        - The certificates as PEM text, the leaf first, without any private key; empty without a certificate.
      type: string
"""

from ansible_collections.nbops.jupyter.plugins.plugin_utils._filter_errors import filter_call


def tls_pair(cert: object, key: object = "", names: object = None, renew_days: object = 0) -> dict:
    # On use: Ansible imports every filter file of the collection to find any one filter.
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.nbops.jupyter.plugins.module_utils._x509 import check_pair

    return filter_call("tls_pair", check_pair, cert, key, names, renew_days)


class FilterModule:
    def filters(self):
        return {"tls_pair": tls_pair}
