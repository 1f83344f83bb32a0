#!/usr/bin/python
# Copyright (c) 2026, nbops.jupyter contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: notebook_health
short_description: Wait until the Jupyter server the role deployed really serves
version_added: 0.2.0
author: nbops.jupyter contributors (@nbops)
description:
  - Checks, in a loop on the host until they all pass or O(timeout) runs out, what a user needs
    of a freshly (re)started server, not just any answer on the port.
  - The unit's own main process holds the listening socket on O(port) - a renamed unit's old
    server, or anything else on the port, is named in the failure.
  - With O(socket) and O(proxy_service), the unit's main process listens on that Unix socket instead and the
    proxy's main process holds O(port).
  - GET C(<url>) answers 200 with O(version) (the installed Jupyter Server's, or Notebook 6's).
  - GET C(<url>/status) refuses an anonymous caller (403).
  - Over HTTPS, the certificate presented has the fingerprint of O(cert), the one deployed.
  - On failure, the message says which check failed and carries the unit's last journal lines.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  url:
    description: The API's URL as the host reaches it, such as C(https://127.0.0.1:8888/api).
    type: str
    required: true
  service:
    description: The systemd unit, without C(.service).
    type: str
    required: true
  port:
    description: The port the unit's main process must listen on.
    type: int
    required: true
  cert:
    description: The deployed certificate (its first certificate is compared), for HTTPS.
    type: path
  version:
    description: The version C(/api) must report; empty skips that check.
    type: str
    default: ""
  timeout:
    description: Seconds to wait for every check to pass.
    type: int
    default: 60
  delay:
    description: Seconds between two rounds of checks.
    type: float
    default: 0.25
  client_cert:
    description: A client certificate to present, for a server that asks for one (mutual TLS).
    type: path
  client_key:
    description: The key of O(client_cert).
    type: path
  socket:
    description:
      - Behind a reverse proxy, the Unix socket the unit's main process must listen on, as the server names
        it; O(port) is then the proxy's and O(url) goes through the proxy.
    type: path
    version_added: 0.4.0
  proxy_service:
    description: The reverse proxy's systemd unit (such as C(nginx)), whose main process must hold O(port).
    type: str
    version_added: 0.4.0
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
seealso:
  - module: nbops.jupyter.notebook_host_info
"""

EXAMPLES = r"""
- name: Wait until the server answers
  nbops.jupyter.notebook_health:
    url: https://127.0.0.1:8888/api
    service: jupyter-notebook
    port: 8888
    cert: /etc/jupyter-notebook/tls/live/cert.pem
    version: 2.17.0
"""

RETURN = r"""
elapsed:
  description: Seconds until every check passed (or the timeout).
  returned: always
  type: float
main_pid:
  description: The unit's main process.
  returned: always
  type: int
version:
  description: The version C(/api) reported.
  returned: when it answered
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate presented.
  returned: over HTTPS, when it answered
  type: str
journal:
  description: The unit's last journal lines.
  returned: on failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nbops.jupyter.plugins.module_utils import _health


def main():
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "port": {"type": "int", "required": True},
            "cert": {"type": "path"},
            "version": {"type": "str", "default": ""},
            "timeout": {"type": "int", "default": 60},
            "delay": {"type": "float", "default": 0.25},
            "client_cert": {"type": "path"},
            "client_key": {"type": "path"},
            "socket": {"type": "path"},
            "proxy_service": {"type": "str"},
        },
        required_together=[("client_cert", "client_key"), ("socket", "proxy_service")],
        supports_check_mode=True,
    )
    p = module.params
    client = (p["client_cert"], p["client_key"]) if p["client_cert"] else None
    result = _health.wait(p["url"], p["service"], p["port"], p["cert"], p["version"] or None, p["timeout"], p["delay"],
                          client, p["socket"], p["proxy_service"])
    passed, problem = result.pop("passed"), result.pop("problem")
    if not passed:
        journal = _health.journal(p["service"])
        module.fail_json(msg=f"{p['service']} did not pass the health gate within {p['timeout']} s: {problem}\n"
                             f"Last lines of journalctl -u {p['service']}:\n" + "\n".join(journal), journal=journal, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
