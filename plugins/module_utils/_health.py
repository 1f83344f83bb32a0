# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, nbops.jupyter contributors
"""Is the server a user would reach the one the role just deployed, and does it work?

Checked from the host, as root, in one loop: the unit's own main process holds the listening
socket (not a process of a renamed or stray unit), GET /api answers with the version installed,
GET /api/status refuses an anonymous caller, and the certificate presented is the one deployed.
Behind a reverse proxy, the proxy's main process holds the port and the server's main process its
listening Unix socket; the requests go through the proxy.

Private to this collection (the leading underscore).
"""

from __future__ import annotations

import glob
import hashlib
import http.client
import json
import os
import ssl
import subprocess
import time
from urllib.parse import urlsplit

from ._tls import fingerprint


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on ``port`` (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as fh:
                next(fh)
                for line in fh:
                    fields = line.split()
                    # local_address is HEXIP:HEXPORT; state 0A is LISTEN.
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            continue
    return inodes


def _unix_listening_inodes(path: str, table: str = "/proc/net/unix") -> set[str]:
    """Inodes of the Unix stream sockets listening at ``path`` (as the binding process named it)."""
    inodes = set()
    try:
        with open(table, encoding="utf-8", errors="replace") as fh:
            next(fh)
            for line in fh:
                # Num RefCount Protocol Flags Type St Inode [Path]; flag 00010000 is __SO_ACCEPTCON
                # (listening), type 0001 SOCK_STREAM.
                fields = line.split(None, 7)
                if len(fields) == 8 and fields[7].rstrip("\n") == path and fields[4] == "0001" \
                        and int(fields[3], 16) & 0x10000:
                    inodes.add(fields[6])
    except OSError:
        pass
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets ``pid`` holds; PermissionError where root may not look (in a
    container without CAP_SYS_PTRACE)."""
    found = set()
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def _server_files(port: int, root: str = "/run") -> dict[int, str]:
    """{pid: unit} from the files Jupyter servers write into their runtime directory
    (/run/<unit>/) once they listen - jpserver-PID.json (Jupyter Server), nbserver-PID.json
    (Notebook 6) - for those that listen on ``port``."""
    found = {}
    for path in glob.glob(f"{root}/*/jpserver-*.json") + glob.glob(f"{root}/*/nbserver-*.json"):
        try:
            with open(path, encoding="utf-8") as fh:
                info = json.load(fh)
        except (OSError, ValueError):
            continue
        if info.get("port") == port and isinstance(info.get("pid"), int) and os.path.exists(f"/proc/{info['pid']}"):
            found[info["pid"]] = os.path.basename(os.path.dirname(path)) + ".service"
    return found


def owns_port(pid: int, port: int, listening: set[str]) -> bool:
    """The process holds one of the sockets listening on the port: seen through its descriptors,
    or, where root may not read them, through the server file Jupyter writes once it listens."""
    try:
        return bool(listening & _socket_inodes(pid))
    except PermissionError:
        return pid in _server_files(port)


def _holder(port: int, inodes: set[str], pid: int) -> str:
    """Which process (and unit) holds the port instead, for the message."""
    others = {other: unit for other, unit in _server_files(port).items() if other != pid}
    if others:
        other, unit = sorted(others.items())[0]
        return f"PID {other} ({unit})"
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            if not _socket_inodes(int(proc[6:])) & inodes:
                continue
        except PermissionError:
            continue
        try:
            with open(f"{proc}/cgroup", encoding="utf-8") as fh:
                unit = next((part for part in fh.read().replace("\n", "/").split("/") if part.endswith(".service")), "no unit")
        except OSError:
            unit = "unknown unit"
        return f"PID {proc[6:]} ({unit})"
    return "another process"


def service_state(service: str) -> dict:
    proc = subprocess.run(["systemctl", "show", "--property=ActiveState,SubState,MainPID,NRestarts", service + ".service"],
                          capture_output=True, text=True, check=False)
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _get(url: str, path_suffix: str, timeout: float, client: tuple[str, str] | None = None) -> tuple[int, bytes, bytes | None]:
    """(status, body, DER of the certificate presented, or None over plain HTTP). ``client``:
    the (certificate, key) to present to a server that asks for client certificates."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if parts.scheme == "https":
        # The certificate is checked by its fingerprint against the deployed file, which is
        # stronger than a chain check and works for any name the certificate carries.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if client:
            context.load_cert_chain(*client)
        conn = http.client.HTTPSConnection(host, parts.port or 443, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, parts.port or 80, timeout=timeout)
    try:
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True) if parts.scheme == "https" else None
        conn.request("GET", parts.path.rstrip("/") + path_suffix, headers={"User-Agent": "nbops.jupyter health gate"})
        response = conn.getresponse()
        return response.status, response.read(65536), der
    finally:
        conn.close()


def _der_fingerprint(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _proxy_problem(service: str, pid: int, port: int, socket: str, proxy_service: str) -> str:
    """Behind a proxy: what is off about the server's socket or the proxy's port ("" when nothing)."""
    try:
        mine = _socket_inodes(pid)
    except PermissionError:
        mine = None
    unix = _unix_listening_inodes(socket)
    if not unix:
        return f"nothing listens on {socket} yet"
    if mine is not None and not unix & mine:
        return f"{socket} is held by another process, not by {service} (PID {pid})"
    proxy = service_state(proxy_service)
    proxy_pid = int(proxy.get("MainPID") or 0)
    if proxy.get("ActiveState") != "active" or not proxy_pid:
        return f"{proxy_service} is {proxy.get('ActiveState', 'unknown')}/{proxy.get('SubState', '')}"
    listening = _listening_inodes(port)
    if not listening:
        return f"nothing listens on port {port} yet"
    if not owns_port(proxy_pid, port, listening):
        return f"port {port} is held by {_holder(port, listening, proxy_pid)}, not by {proxy_service} (PID {proxy_pid})"
    return ""


def check_once(url: str, service: str, port: int, cert: str | None, version: str | None,
               client: tuple[str, str] | None = None, socket: str | None = None,
               proxy_service: str | None = None) -> tuple[bool, str, dict]:
    """One round of every check: (passed, what failed first, what was seen). With ``socket`` and
    ``proxy_service``, the server listens on that Unix socket and the proxy on ``port``."""
    seen: dict = {}
    state = service_state(service)
    pid = int(state.get("MainPID") or 0)
    seen.update(active=state.get("ActiveState"), main_pid=pid, restarts=int(state.get("NRestarts") or 0))
    if state.get("ActiveState") != "active" or not pid:
        return False, f"{service} is {state.get('ActiveState', 'unknown')}/{state.get('SubState', '')}", seen
    if socket and proxy_service:
        problem = _proxy_problem(service, pid, port, socket, proxy_service)
        if problem:
            return False, problem, seen
    else:
        listening = _listening_inodes(port)
        if not listening:
            return False, f"nothing listens on port {port} yet", seen
        if not owns_port(pid, port, listening):
            return False, f"port {port} is held by {_holder(port, listening, pid)}, not by {service} (PID {pid})", seen
    try:
        status, body, der = _get(url, "", 5, client)
        anonymous, _body, _der = _get(url, "/status", 5, client)
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return False, f"{url}: {exc}", seen
    seen.update(status=status, anonymous_status=anonymous)
    if status != 200:
        return False, f"{url} answered {status}", seen
    try:
        seen["version"] = json.loads(body).get("version")
    except ValueError:
        return False, f"{url} answered something other than Jupyter's JSON", seen
    if version and seen["version"] != version:
        return False, f"{url} answers version {seen['version']}, not the {version} installed: another server answers", seen
    if anonymous != 403:
        return False, f"{url}/status answered {anonymous} to an anonymous caller instead of 403: login is not required", seen
    if cert:
        seen["fingerprint_sha256"] = _der_fingerprint(der) if der else ""
        if seen["fingerprint_sha256"] != fingerprint(cert):
            return False, f"the certificate presented ({seen['fingerprint_sha256']}) is not the one deployed in {cert}", seen
    return True, "", seen


def wait(url: str, service: str, port: int, cert: str | None, version: str | None, timeout: float, delay: float,
         client: tuple[str, str] | None = None, socket: str | None = None, proxy_service: str | None = None) -> dict:
    start = time.monotonic()
    held = ""
    while True:
        passed, problem, seen = check_once(url, service, port, cert, version, client, socket, proxy_service)
        # A unit that crash-loops because another process holds its port is "activating" most of
        # the time: the holder, once seen, is what the failure must name.
        held = problem if " is held by " in problem else held
        elapsed = time.monotonic() - start
        if passed or elapsed >= timeout:
            return {"passed": passed, "problem": problem if passed or not held else held, "elapsed": round(elapsed, 2), **seen}
        time.sleep(delay)


def journal(service: str, lines: int = 30) -> list[str]:
    proc = subprocess.run(["journalctl", "--unit", service, "--lines", str(lines), "--no-pager", "--output", "cat"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.splitlines()
