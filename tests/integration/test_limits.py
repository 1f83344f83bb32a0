# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU and task limits in the unit, and Jupyter's culling (the alternative scenario): an idle
kernel is shut down after notebook_cull_idle_timeout, a kernel a client is connected to is kept."""

from __future__ import annotations

import os
import ssl
import time
from urllib.parse import urlsplit

import pytest
import websocket
from hostcheck import sh

TIMEOUT = int(os.environ.get("NB_CULL_TIMEOUT", "0") or 0)
pytestmark = pytest.mark.skipif(TIMEOUT == 0, reason="this scenario culls no kernels")


def test_cpu_and_task_limits_are_the_units(host, paths):
    shown = dict(line.split("=", 1) for line in sh(host, f"systemctl show -p CPUQuotaPerSecUSec -p TasksMax {paths['service']}").split())
    assert shown["CPUQuotaPerSecUSec"] == "1.500000s" and shown["TasksMax"] == "512", shown


def _connect(client, kernel_id: str):
    parts = urlsplit(client.base_url)
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.session.cookies)
    sslopt = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": client.ca_file} if client.ca_file else {"cert_reqs": ssl.CERT_NONE}
    return websocket.create_connection(f"wss://{parts.netloc}{parts.path}api/kernels/{kernel_id}/channels", cookie=cookie,
                                       sslopt=sslopt, timeout=30)


def test_idle_kernels_are_culled_and_connected_ones_kept(logged_in):
    idle, connected = logged_in.start_kernel(), logged_in.start_kernel()
    assert logged_in.execute(idle, "print(6 * 7)").stdout.strip() == "42"
    ws = _connect(logged_in, connected)
    try:
        start = time.monotonic()
        deadline = start + TIMEOUT + 60
        while time.monotonic() < deadline:
            running = {k["id"] for k in logged_in.api("GET", "api/kernels", xsrf=False).json()}
            if idle not in running:
                break
            time.sleep(2)
        waited = time.monotonic() - start
        assert idle not in running, f"the idle kernel was still running after {waited:.0f} s (timeout {TIMEOUT} s)"
        assert connected in running, "a kernel a client is connected to was culled"
    finally:
        ws.close()
        logged_in.delete_kernel(connected)
    print(f"\n[figure] idle kernel culled {waited:.0f} s after its last use (notebook_cull_idle_timeout {TIMEOUT} s); "
          "the connected one kept")
