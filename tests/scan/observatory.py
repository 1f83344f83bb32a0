# SPDX-License-Identifier: GPL-3.0-or-later
"""Grade an HTTPS server on this machine with Mozilla's MDN HTTP Observatory scanner.

    python3 tests/scan/observatory.py --target HOST:PORT --ca PEMFILE [--name NAME]
        [--http-target HOST:PORT] [--json OUT]
        [--expect-grade GRADE] [--expect-min-score N] [--verbose]

The scanner (npm @mdn/mdn-http-observatory, installed by tests/scan/install.sh into
.build/scan/observatory) only ever fetches https://NAME/ and http://NAME/ (ports 443 and 80),
so this script, for the scan's duration only:
  - listens on 127.0.0.1:443 and forwards every connection to --target (refusing to start if
    the port is taken); with --http-target, 127.0.0.1:80 likewise, otherwise it checks that
    nothing answers on 127.0.0.1:80 (the scanner's plain-HTTP probe would grade whatever does);
  - makes the scanner resolve NAME (default: localhost) to 127.0.0.1 through a preloaded lookup
    hook (loopback_dns.cjs), which also refuses any name that resolves off loopback; nothing on
    the machine (/etc/hosts, DNS) is changed;
  - makes the private scanner install trust the --ca PEM (the CA, or a self-signed leaf, that
    signed the target's certificate): its certificates are appended once to the CA bundle file
    the scanner's wrapper passes to Node as NODE_EXTRA_CA_CERTS.
The certificate must name NAME (the role's certificates name localhost): the scanner checks
it, and when it does not verify, grades HSTS and redirection as "invalid-cert"; this script
checks it first and says so.

Prints one line, e.g.
    [figure] MDN HTTP Observatory: grade A+, score 105/100 (tests passed: 10/10)
and, for each failed test, its result and score modifier; --json writes the scanner's JSON.
Exit status: 0 when the scan ran (whatever the grade), 1 when --expect-grade/--expect-min-score
is not met, 2 when it could not run.
"""

import argparse
import asyncio
import base64
import errno
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_INSTALL = os.path.join(REPO, ".build", "scan", "observatory")
PACKAGE = os.path.join("node_modules", "@mdn", "mdn-http-observatory")
HOOK = os.path.join(HERE, "loopback_dns.cjs")
LISTEN = "127.0.0.1"
GRADES = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"]
PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)


class CannotRun(Exception):
    pass


def parse_hostport(value, what):
    m = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:\[\]]+):(\d+)", value or "")
    if not m:
        raise CannotRun(f"{what} must be HOST:PORT (or [IPV6]:PORT), not {value!r}")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 0 < port < 65536:
        raise CannotRun(f"{what}: bad port {port}")
    return host, port


def loopback_address(host, port, what):
    """The address to connect to for host, which must resolve to loopback addresses only."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise CannotRun(f"{what}: cannot resolve {host}: {e}")
    addrs = sorted({i[4][0] for i in infos}, key=lambda a: (":" in a, a))
    off = [a for a in addrs if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
    if off:
        raise CannotRun(f"{what}: {host} resolves to {', '.join(off)}: only loopback targets are scanned")
    return addrs[0]


def find_scanner(install_dir):
    pkg = os.path.join(install_dir, PACKAGE)
    wrapper = os.path.join(pkg, "bin", "wrapper.js")
    if not os.path.isfile(wrapper):
        raise CannotRun(f"the Observatory scanner is not installed in {install_dir}: run tests/scan/install.sh")
    if not os.path.isfile(os.path.join(pkg, "conf", "hsts-preload.json")):
        raise CannotRun(f"{pkg}/conf/hsts-preload.json is missing (install.sh writes it): run tests/scan/install.sh")
    # The wrapper resolves node_extra_ca_certs_mozilla_bundle from its own directory, the way
    # Node walks up through node_modules folders; do the same.
    d = os.path.dirname(wrapper)
    while True:
        cand = os.path.join(d, "node_modules", "node_extra_ca_certs_mozilla_bundle")
        if os.path.isfile(os.path.join(cand, "package.json")):
            return pkg, wrapper, os.path.join(cand, "ca_bundle", "ca_intermediate_bundle.pem")
        if os.path.dirname(d) == d:
            raise CannotRun("node_extra_ca_certs_mozilla_bundle not found beside the scanner: run tests/scan/install.sh")
        d = os.path.dirname(d)


def pem_certificates(text):
    return ["".join(b.split()) for b in PEM_RE.findall(text)]


def trust_ca(bundle, ca_file):
    """Append ca_file's certificates to the scanner's bundle, each once; returns how many were added."""
    try:
        with open(ca_file, encoding="ascii", errors="replace") as f:
            wanted = pem_certificates(f.read())
    except OSError as e:
        raise CannotRun(f"--ca: {e}")
    if not wanted:
        raise CannotRun(f"--ca: no PEM CERTIFICATE in {ca_file}")
    os.makedirs(os.path.dirname(bundle), exist_ok=True)
    with open(bundle, "a+", encoding="ascii") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        have = set(pem_certificates(f.read()))
        added = 0
        for b64 in wanted:
            if b64 in have:
                continue
            der = base64.b64decode(b64)
            lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
            f.write(
                f"\n# added by tests/scan/observatory.py from {os.path.abspath(ca_file)}"
                f" (sha256 {hashlib.sha256(der).hexdigest()})\n"
                f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
            )
            have.add(b64)
            added += 1
    return added


def check_certificate(ip, port, name, ca_file):
    """None when the target's certificate verifies for name against ca_file, else the reason."""
    ctx = ssl.create_default_context(cafile=ca_file)
    try:
        with socket.create_connection((ip, port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=name):
                return None
    except ssl.SSLCertVerificationError as e:
        return e.verify_message or str(e)
    except (ssl.SSLError, OSError) as e:
        raise CannotRun(f"cannot make a TLS connection to {ip}:{port}: {e}")


def something_listens(ip, port):
    try:
        with socket.create_connection((ip, port), timeout=2):
            return True
    except OSError:
        return False


class Forwarder:
    """Forwards connections on LISTEN:listen_port to (ip, port) for as long as it runs."""

    def __init__(self, listen_port, ip, port):
        self.listen_port, self.ip, self.port = listen_port, ip, port
        self.server = None
        self.connections = 0
        self.failures = 0
        self.tasks = set()

    async def start(self):
        try:
            self.server = await asyncio.start_server(self._handle, LISTEN, self.listen_port, reuse_address=True)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise CannotRun(
                    f"port {self.listen_port} on {LISTEN} is taken by another process; the scanner"
                    f" only scans port {self.listen_port}, so free it first"
                )
            raise CannotRun(f"cannot listen on {LISTEN}:{self.listen_port}: {e}")

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, asyncio.IncompleteReadError):
            pass

    async def _handle(self, reader, writer):
        self.tasks.add(asyncio.current_task())
        self.connections += 1
        try:
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(self.ip, self.port), 10)
            except (OSError, asyncio.TimeoutError):
                self.failures += 1
                return
            try:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            finally:
                up_writer.close()
        finally:
            writer.close()
            self.tasks.discard(asyncio.current_task())

    async def stop(self):
        if self.server:
            self.server.close()
            await self.server.wait_closed()
        for t in list(self.tasks):
            t.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def scan(args, node, wrapper, pkg, target, http_target):
    forwarders = [Forwarder(443, *target)]
    if http_target:
        forwarders.append(Forwarder(80, *http_target))
    env = dict(os.environ)
    opts = env.get("NODE_OPTIONS", "")
    env["NODE_OPTIONS"] = f'{opts} --require="{HOOK}"'.strip()  # quoted: NODE_OPTIONS splits on spaces
    env["NBOPS_SCAN_NAME"] = args.name
    env["NBOPS_SCAN_ADDRESS"] = LISTEN
    env.pop("NODE_EXTRA_CA_CERTS", None)  # the wrapper sets its own
    try:
        for f in forwarders:
            await f.start()
        proc = await asyncio.create_subprocess_exec(
            node, wrapper, args.name, cwd=pkg, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), args.timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise CannotRun(f"the scanner did not finish within {args.timeout:g}s")
    finally:
        for f in forwarders:
            await f.stop()
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), forwarders


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="HOST:PORT of the HTTPS server (loopback only)")
    ap.add_argument("--ca", required=True, help="PEM file with the CA (or self-signed certificate) to trust")
    ap.add_argument("--name", default="localhost", help="the name to scan; the certificate must name it (default: localhost)")
    ap.add_argument("--http-target", help="HOST:PORT of the server's plain-HTTP listener, forwarded from 127.0.0.1:80")
    ap.add_argument("--json", help="write the scanner's full JSON result to this file")
    ap.add_argument("--expect-grade", choices=GRADES, help="exit 1 unless the grade is at least this")
    ap.add_argument("--expect-min-score", type=int, help="exit 1 unless the score is at least this")
    ap.add_argument("--install-dir", default=DEFAULT_INSTALL, help="where install.sh put the scanner")
    ap.add_argument("--timeout", type=float, default=120, help="seconds the scan may take (default 120)")
    ap.add_argument("--verbose", action="store_true", help="print every test's result, not only the failed ones")
    args = ap.parse_args()

    try:
        if args.name != LISTEN and (
            not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", args.name) or args.name.replace(".", "").isdigit()
        ):
            raise CannotRun(f"--name must be a DNS name or {LISTEN}, not {args.name!r}")
        host, port = parse_hostport(args.target, "--target")
        target = (loopback_address(host, port, "--target"), port)
        http_target = None
        if args.http_target:
            h, p = parse_hostport(args.http_target, "--http-target")
            http_target = (loopback_address(h, p, "--http-target"), p)
        elif something_listens(LISTEN, 80):
            raise CannotRun(
                f"something answers on {LISTEN}:80: the scanner would grade it as http://{args.name}/;"
                " stop it, or name the server's own HTTP listener with --http-target"
            )
        node = shutil.which("node")
        if not node:
            raise CannotRun("node is not on PATH")
        pkg, wrapper, bundle = find_scanner(os.path.abspath(args.install_dir))
        added = trust_ca(bundle, args.ca)
        if added:
            print(f"observatory: the scanner now trusts {added} certificate(s) from {args.ca}")
        problem = check_certificate(*target, args.name, args.ca)
        if problem:
            print(
                f"observatory: warning: the certificate at {args.target} does not verify for {args.name}"
                f" with {args.ca} ({problem}); the scanner will grade HSTS (and any redirection) as invalid-cert"
            )
        print(
            f"observatory: scanning https://{args.name}/ ({args.name} -> {LISTEN}; {LISTEN}:443 -> {args.target}; "
            + (f"{LISTEN}:80 -> {args.http_target})" if http_target else f"nothing on {LISTEN}:80)"),
            flush=True,
        )
        rc, out, err, forwarders = asyncio.run(scan(args, node, wrapper, pkg, target, http_target))
        try:
            result = json.loads(out)
        except ValueError:
            raise CannotRun(f"the scanner exited {rc} without JSON output:\n{out}{err}".rstrip())
        if "error" in result and "scan" not in result:
            raise CannotRun(f"the scanner could not scan https://{args.name}/: {result['error']}" + (f"\n{err.strip()}" if err.strip() else ""))
        if rc != 0 or "scan" not in result:
            raise CannotRun(f"the scanner exited {rc}:\n{out}{err}".rstrip())
    except CannotRun as e:
        print(f"observatory: cannot run: {e}", file=sys.stderr)
        return 2

    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    s, tests = result["scan"], result.get("tests", {})
    failed = [name for name, t in tests.items() if not t.get("pass")]
    summary = f"tests passed: {s['testsPassed']}/{s['testsQuantity']}"
    if failed:
        summary += "; failed: " + ", ".join(failed)
    print(f"[figure] MDN HTTP Observatory: grade {s['grade']}, score {s['score']}/100 ({summary})")
    for name, t in tests.items():
        if args.verbose or not t.get("pass"):
            mod = t.get("scoreModifier", 0)
            print(f"    {'ok  ' if t.get('pass') else 'FAIL'} {name}: {t.get('result')} ({mod:+d})")
    if err.strip() and args.verbose:
        print("observatory: scanner stderr: " + err.strip())

    unmet = []
    if args.expect_grade and GRADES.index(s["grade"]) > GRADES.index(args.expect_grade):
        unmet.append(f"grade {s['grade']} is below {args.expect_grade}")
    if args.expect_min_score is not None and s["score"] < args.expect_min_score:
        unmet.append(f"score {s['score']} is below {args.expect_min_score}")
    if unmet:
        print(f"observatory: expectation not met: {'; '.join(unmet)}; failed tests: {', '.join(failed) or 'none'}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
