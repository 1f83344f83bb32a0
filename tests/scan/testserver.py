# SPDX-License-Identifier: GPL-3.0-or-later
"""A small HTTPS server on 127.0.0.1 to try the scanners on: a poor one and a good one.

    python3 tests/scan/testserver.py --mode poor|good --port PORT --cert LEAF.pem --key LEAF.key [--http-port PORT]

poor: Python's ssl defaults (whatever OpenSSL offers: CBC suites, X448, secp521r1, ...), and
      pages with no security headers and a cookie without flags.
good: TLS restricted to Mozilla's intermediate profile (TLS 1.2 + 1.3, the intermediate cipher
      list, groups X25519:prime256v1:secp384r1) and the headers the Observatory looks for.
      Python's ssl cannot set the key-exchange groups, so the server re-executes itself with
      OPENSSL_CONF pointing to a generated file whose [system_default_sect] sets Groups.
--http-port also serves plain HTTP there, redirecting every request to https://<Host>/ (good)
or answering it with the same page (poor).

It binds 127.0.0.1 only, prints "listening" lines once ready, and stops on SIGTERM/SIGINT.
"""

import argparse
import http.server
import os
import signal
import sys
import tempfile
import threading

INTERMEDIATE_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ]
)
INTERMEDIATE_GROUPS = "X25519:prime256v1:secp384r1"
GOOD_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE = b"<!doctype html><html><head><title>scan test</title></head><body><p>hello</p></body></html>\n"
OPENSSL_CONF_TEMPLATE = """\
# Written by tests/scan/testserver.py for the 'good' test server process only.
openssl_conf = nbops_scan_init

[nbops_scan_init]
ssl_conf = nbops_scan_ssl

[nbops_scan_ssl]
system_default = system_default_sect

[system_default_sect]
Groups = {groups}
"""
MARKER = "NBOPS_SCAN_TESTSERVER_CONF"


def make_handler(mode, csp, https):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "scan-test"
        sys_version = ""

        def log_message(self, fmt, *args):  # quiet: the scanners' requests are not news
            pass

        def _send(self, head_only=False):
            if not https and mode == "good":
                host = (self.headers.get("Host") or "localhost").split(":")[0]
                self.send_response(301)
                self.send_header("Location", f"https://{host}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"User-agent: *\nDisallow:\n" if self.path == "/robots.txt" else PAGE
            ctype = "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if mode == "good":
                self.send_header("Strict-Transport-Security", "max-age=63072000")
                self.send_header("Content-Security-Policy", csp)
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Set-Cookie", "session=t3st; Path=/; Secure; HttpOnly; SameSite=Lax")
            else:
                self.send_header("Set-Cookie", "session=t3st; Path=/")
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def do_GET(self):
            self._send()

        def do_HEAD(self):
            self._send(head_only=True)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["poor", "good"], required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--http-port", type=int)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--csp", default=GOOD_CSP, help=f"good mode's Content-Security-Policy (default: {GOOD_CSP})")
    ap.add_argument("--tls13-only", action="store_true", help="good mode: TLS 1.3 only (Mozilla modern)")
    ap.add_argument("--groups", default=INTERMEDIATE_GROUPS, help="good mode's OpenSSL Groups list")
    args = ap.parse_args()

    if args.mode == "good" and os.environ.get(MARKER) != "1":
        # The groups have to be in the OpenSSL configuration before the library initialises, so
        # write it and start again with it (only this process and its children see it).
        fd, conf = tempfile.mkstemp(prefix="nbops-scan-openssl-", suffix=".cnf")
        with os.fdopen(fd, "w") as f:
            f.write(OPENSSL_CONF_TEMPLATE.format(groups=args.groups))
        env = dict(os.environ, OPENSSL_CONF=conf, **{MARKER: "1"})
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)

    import ssl  # only now: OpenSSL reads OPENSSL_CONF when it initialises

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.mode == "good":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if args.tls13_only else ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(INTERMEDIATE_CIPHERS)  # TLS 1.3's three suites are OpenSSL's default already
        ctx.options |= ssl.OP_NO_COMPRESSION

    class TLSServer(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def finish_request(self, request, client_address):
            # The handshake runs in the connection's own thread, with a timeout, so that a
            # scanner's half-open or broken handshakes never stall the accept loop.
            request.settimeout(15)
            try:
                tls = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                self.RequestHandlerClass(tls, client_address, self)
            except (ssl.SSLError, OSError):
                pass
            finally:
                tls.close()

    servers = []
    httpd = TLSServer(("127.0.0.1", args.port), make_handler(args.mode, args.csp, True))
    servers.append(httpd)
    print(f"listening https://127.0.0.1:{httpd.server_address[1]}/ mode={args.mode}", flush=True)
    if args.http_port is not None:
        plain = http.server.ThreadingHTTPServer(("127.0.0.1", args.http_port), make_handler(args.mode, args.csp, False))
        servers.append(plain)
        print(f"listening http://127.0.0.1:{plain.server_address[1]}/ mode={args.mode}", flush=True)
    if os.environ.get("OPENSSL_CONF") and os.environ.get(MARKER) == "1":
        print(f"OPENSSL_CONF={os.environ['OPENSSL_CONF']} (Groups = {args.groups})", flush=True)

    def stop(*_):
        for s in servers:
            threading.Thread(target=s.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in servers:
        s.server_close()
    conf = os.environ.get("OPENSSL_CONF", "")
    if os.environ.get(MARKER) == "1" and os.path.basename(conf).startswith("nbops-scan-openssl-"):
        os.unlink(conf)


if __name__ == "__main__":
    main()
