# SPDX-License-Identifier: GPL-3.0-or-later
"""Login throttling (fail2ban on the server's journal), tried as two remote clients would.

Through the port docker publishes every client is the bridge's gateway address, so banning it
would only prove that everyone gets banned. Two client containers on a network of their own,
which the notebook host joins for the test, are two addresses: A fails to log in until it is
banned, B still logs in. Runs when NB_FAIL2BAN=1 (a scenario that deploys the jail)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from urllib.parse import urlsplit

import pytest
from hostcheck import run

pytestmark = pytest.mark.skipif(
    os.environ.get("NB_FAIL2BAN") != "1",
    reason="NB_FAIL2BAN is not 1: this deployment has no login throttling (fail2ban jail) to test",
)

CLIENT_IMAGE = os.environ.get("NB_CLIENT_IMAGE", "nbops-testbed:debian12")
ATTEMPTS = 10
# How long a ban may take to arrive after the failure that earns it: fail2ban reads the journal
# as it is written, and the nftables element goes in a moment later.
BAN_WAIT = 20.0

# Runs inside a client container (python3 only, no requests): the settings come on stdin, so
# the password is never on a command line. Each attempt is a new connection and session: GET
# login for the _xsrf cookie, then POST the password. The first attempt that can't connect
# (refused, reset, timed out) ends the run; then, if none was refused yet, new connections are
# tried until one is or the wait is over.
CLIENT = r"""
import http.cookiejar, json, socket, ssl, sys, time, urllib.error, urllib.parse, urllib.request

cfg = json.load(sys.stdin)
ctx = ssl.create_default_context()
# The certificate names the host's addresses at deploy time, not the one on the test network.
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(password):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    opener.open(cfg["base"] + "login", timeout=cfg["timeout"]).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    data = urllib.parse.urlencode({"password": password, "_xsrf": xsrf}).encode()
    try:
        return opener.open(cfg["base"] + "login", data, timeout=cfg["timeout"]).status
    except urllib.error.HTTPError as e:
        return e.code


start = time.monotonic()
out = {"statuses": [], "blocked": None, "blocked_at": None}
for _ in range(cfg["attempts"]):
    try:
        out["statuses"].append(login(cfg["password"]))
    except urllib.error.HTTPError as e:
        out["statuses"].append("GET login answered %d" % e.code)
    except OSError as e:
        out["blocked"] = "login: %s: %s" % (type(e).__name__, getattr(e, "reason", e))
        break
deadline = time.monotonic() + cfg["ban_wait"]
while out["blocked"] is None and cfg["ban_wait"] > 0:
    try:
        socket.create_connection((cfg["host"], cfg["port"]), timeout=3).close()
    except OSError as e:
        out["blocked"] = "connect: %s: %s" % (type(e).__name__, e)
        break
    if time.monotonic() > deadline:
        break
    time.sleep(0.25)
if out["blocked"] is not None:
    out["blocked_at"] = time.monotonic() - start
print(json.dumps(out))
"""


def _docker(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *argv], capture_output=True, text=True, check=check, timeout=120)


def _address(container: str, network: str) -> str:
    return _docker(
        "inspect", "-f", '{{(index .NetworkSettings.Networks "%s").IPAddress}}' % network, container
    ).stdout.strip()


def _client(container: str, **cfg) -> dict:
    proc = subprocess.run(  # its exit code is read below
        ["docker", "exec", "-i", container, "python3", "-c", CLIENT], check=False,
        input=json.dumps(cfg),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"client {container} failed: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def _banned(host: str, jail: str) -> list[str]:
    status = run(host, "fail2ban-client", "status", jail).stdout
    found = re.search(r"Banned IP list:\s*(.*)$", status, re.M)
    return found.group(1).split() if found else []


@pytest.fixture
def jail(host, paths):
    """The jail's name (the service's) and its maxretry, read from the running fail2ban."""
    name = paths["service"]
    answer = run(host, "fail2ban-client", "get", name, "maxretry", check=False)
    assert answer.returncode == 0, f"fail2ban on {host} runs no jail {name}: {answer.stdout}{answer.stderr}"
    return {"name": name, "maxretry": int(answer.stdout.strip())}


@pytest.fixture
def clients(host, jail):
    """Two client containers on a new network that the notebook host joins for the test."""
    network = f"nbops-f2b-{uuid.uuid4().hex[:8]}"
    names = {"a": f"{network}-a", "b": f"{network}-b"}
    started: list[str] = []
    connected = False
    _docker("network", "create", network)
    try:
        _docker("network", "connect", network, host)
        connected = True
        for name in names.values():
            # Plain processes, not systemd: nothing but python3 runs in them.
            _docker(
                "run", "-d", "--name", name, "--hostname", name, "--network", network, CLIENT_IMAGE, "sleep", "infinity"
            )
            started.append(name)
        yield {
            "network": network,
            "server": _address(host, network),
            **{key: {"name": name, "ip": _address(name, network)} for key, name in names.items()},
        }
    finally:
        # Unban by address whatever happened: the address may go to another container later.
        if started:
            address = _address(names["a"], network)
            run(host, "fail2ban-client", "set", jail["name"], "unbanip", address, check=False)
        for name in started:
            _docker("rm", "-f", name, check=False)
        if connected:
            _docker("network", "disconnect", "--force", network, host, check=False)
        _docker("network", "rm", network, check=False)


def test_repeated_failed_logins_ban_the_address_not_the_others(server, host, jail, clients):
    port = server["port"]
    base = f"https://{clients['server']}:{port}{urlsplit(server['url']).path or '/'}"
    attempts = max(ATTEMPTS, jail["maxretry"] + 1)
    common = {"base": base, "host": clients["server"], "port": port, "timeout": 5}

    a = _client(
        clients["a"]["name"], **common, password=server["password"] + "-wrong", attempts=attempts, ban_wait=BAN_WAIT
    )
    failures = len(a["statuses"])
    assert a["statuses"] == [401] * failures, f"A's failed logins were answered {a['statuses']}"
    assert a["blocked"], (
        f"A ({clients['a']['ip']}) could still connect {BAN_WAIT} s after {failures} failed logins"
        f" (maxretry {jail['maxretry']}); banned: {_banned(host, jail['name'])}"
    )
    # Not before the jail's limit: a ban any earlier would lock out someone who mistyped. (A's
    # address is new to the jail: docker gives each new network the next free subnet, so it is
    # not an address an earlier run left failures for.)
    assert failures >= jail["maxretry"], f"A was banned after {failures} failures, maxretry is {jail['maxretry']}"

    banned = _banned(host, jail["name"])
    assert (
        clients["a"]["ip"] in banned
    ), f"fail2ban-client status {jail['name']} bans {banned}, not A's {clients['a']['ip']}"

    b = _client(clients["b"]["name"], **common, password=server["password"], attempts=1, ban_wait=0)
    assert b["statuses"] == [302], f"B ({clients['b']['ip']}) logging in got {b['statuses']} {b['blocked'] or ''}"
    assert clients["b"]["ip"] not in _banned(host, jail["name"])

    print(
        f"[figure] {host}: login throttling: client banned after {failures} failed logins"
        f" in {a['blocked_at']:.1f} s; other client logged in"
    )
