# SPDX-License-Identifier: GPL-3.0-or-later
"""Check an HTTPS server on this machine against Mozilla's TLS configuration profiles with sslyze.

    python3 tests/scan/tls_profile.py --target HOST:PORT --profile intermediate|modern
        [--name NAME] [--ca PEMFILE] [--json OUT] [--expect compliant]

Runs `python -m sslyze --mozilla_config=PROFILE` from the venv tests/scan/install.sh made
(.build/scan/venv), connecting to HOST:PORT (loopback addresses only) and sending NAME (default:
HOST) as SNI. sslyze checks the certificate's path against its own trust stores, so pass the
private CA (or self-signed certificate) with --ca (sslyze's --certinfo_ca_file), else a private
certificate is reported as "certificate_path_validation".

Prints
    [figure] sslyze Mozilla intermediate: compliant
or  [figure] sslyze Mozilla intermediate: not compliant: <criterion>: <sslyze's reason>; ...
and the protocols, cipher suites and key-exchange groups the server accepted, and its
certificate. --json writes sslyze's JSON output with one key added, "mozilla_compliance"
({"profile", "compliant", "issues"}), since sslyze prints that verdict only on the console.
Exit status: 0 when the check ran (whatever the verdict), 1 when --expect compliant is not met,
2 when it could not run.
"""

import argparse
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_VENV = os.path.join(REPO, ".build", "scan", "venv")
PROTOCOLS = [
    ("ssl_2_0_cipher_suites", "SSLv2"),
    ("ssl_3_0_cipher_suites", "SSLv3"),
    ("tls_1_0_cipher_suites", "TLSv1.0"),
    ("tls_1_1_cipher_suites", "TLSv1.1"),
    ("tls_1_2_cipher_suites", "TLSv1.2"),
    ("tls_1_3_cipher_suites", "TLSv1.3"),
]


class CannotRun(Exception):
    pass


def parse_hostport(value):
    m = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:\[\]]+):(\d+)", value or "")
    if not m:
        raise CannotRun(f"--target must be HOST:PORT (or [IPV6]:PORT), not {value!r}")
    return m.group(1) or m.group(3), int(m.group(2) or m.group(4))


def loopback_address(host, port):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise CannotRun(f"--target: cannot resolve {host}: {e}")
    addrs = sorted({i[4][0] for i in infos}, key=lambda a: (":" in a, a))
    off = [a for a in addrs if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
    if off:
        raise CannotRun(f"--target: {host} resolves to {', '.join(off)}: only loopback targets are scanned")
    return addrs[0]


def is_ip(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def sslyze_target(name, ip, port):
    """sslyze's HOST:PORT{IP} form: connect to ip exactly, whatever name resolves to."""
    if is_ip(name):
        return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
    return f"{name}:{port}{{[{ip}]}}" if ":" in ip else f"{name}:{port}{{{ip}}}"


def parse_compliance(stdout):
    """sslyze's console verdict: (compliant, {criterion: reason}) or None when it has none."""
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip().endswith(": OK - Compliant."):
            return True, {}
        if line.rstrip().endswith(": FAILED - Not compliant."):
            issues = {}
            for more in lines[i + 1 :]:
                m = re.match(r"\s+\* ([^:]+): (.*)$", more)
                if not m:
                    break
                issues[m.group(1)] = m.group(2)
            return False, issues
        if ": ERROR - Scan did not run successfully" in line:
            return None
    return None


def failed_commands(scan_result):
    out = []
    for cmd, attempt in (scan_result or {}).items():
        if isinstance(attempt, dict) and attempt.get("status") == "ERROR":
            out.append(f"{cmd} ({attempt.get('error_reason')})")
    return out


def describe(scan_result):
    """Lines on what the server accepted."""
    lines = []
    protocols, groups_seen = [], []
    for field, label in PROTOCOLS:
        res = (scan_result.get(field) or {}).get("result") or {}
        if res.get("is_tls_version_supported"):
            protocols.append(label)
    lines.append("protocols: " + (", ".join(protocols) or "none"))
    for field, label in PROTOCOLS:
        res = (scan_result.get(field) or {}).get("result") or {}
        accepted = res.get("accepted_cipher_suites") or []
        if not accepted:
            continue
        names = []
        for a in accepted:
            names.append(a["cipher_suite"]["name"])
            key = a.get("ephemeral_key") or {}
            g = key.get("curve_name") or (f"DH {key['size']} bits" if key.get("type_name") == "DH" else None)
            if g and g not in groups_seen:
                groups_seen.append(g)
        lines.append(f"{label} cipher suites: " + ", ".join(names))
    curves = (scan_result.get("elliptic_curves") or {}).get("result") or {}
    if curves:
        supported = [c["name"] for c in curves.get("supported_curves") or []]
        lines.append("groups (ECDH curves accepted): " + (", ".join(supported) or "none"))
    elif groups_seen:
        lines.append("groups (seen in handshakes): " + ", ".join(groups_seen))
    cert = ((scan_result.get("certificate_info") or {}).get("result") or {}).get("certificate_deployments") or []
    for dep in cert[:1]:
        leaf = dep["received_certificate_chain"][0]
        pk = leaf.get("public_key") or {}
        kind = pk.get("algorithm", "?")
        detail = pk.get("ec_curve_name") or (f"{pk.get('key_size')} bits" if pk.get("key_size") else "")
        trusted = [r["trust_store"]["name"] for r in dep.get("path_validation_results", []) if r.get("was_validation_successful")]
        sig = (leaf.get("signature_algorithm_oid") or {}).get("name") or "?"
        try:
            days = (datetime.fromisoformat(leaf["not_valid_after"].replace("Z", "+00:00"))
                    - datetime.fromisoformat(leaf["not_valid_before"].replace("Z", "+00:00"))).days
            life = f"valid {days} days to {leaf['not_valid_after'][:10]}"
        except (KeyError, ValueError):
            life = "validity unknown"
        lines.append(
            f"certificate: {kind} {detail}, {sig}, {life}, "
            + (f"trusted by: {', '.join(trusted)}" if trusted else "not trusted by any store")
        )
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="HOST:PORT of the TLS server (loopback only)")
    ap.add_argument("--profile", required=True, choices=["intermediate", "modern", "old"])
    ap.add_argument("--name", help="server name to send as SNI (default: HOST)")
    ap.add_argument("--ca", help="PEM file with the CA (or self-signed certificate) to validate the certificate with")
    ap.add_argument("--json", help="write sslyze's JSON (plus mozilla_compliance) to this file")
    ap.add_argument("--expect", choices=["compliant"], help="exit 1 unless the server is compliant")
    ap.add_argument("--venv", default=DEFAULT_VENV, help="the venv install.sh put sslyze in")
    ap.add_argument("--timeout", type=float, default=300, help="seconds the scan may take (default 300)")
    args = ap.parse_args()

    try:
        host, port = parse_hostport(args.target)
        ip = loopback_address(host, port)
        python = os.path.join(args.venv, "bin", "python")
        if not os.path.exists(python):
            raise CannotRun(f"no venv at {args.venv}: run tests/scan/install.sh")
        if args.ca and not os.path.isfile(args.ca):
            raise CannotRun(f"--ca: no such file {args.ca}")
        with tempfile.TemporaryDirectory(prefix="nbops-sslyze-") as tmp:
            json_path = os.path.join(tmp, "sslyze.json")
            cmd = [python, "-m", "sslyze", f"--mozilla_config={args.profile}", f"--json_out={json_path}"]
            if args.ca:
                cmd.append(f"--certinfo_ca_file={os.path.abspath(args.ca)}")
            cmd.append(sslyze_target(args.name or host, ip, port))
            # sslyze prints its reasons as Python sets; a fixed hash seed keeps their order stable.
            env = dict(os.environ, PYTHONHASHSEED="0", PYTHONWARNINGS="ignore")
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout, check=False)
            except subprocess.TimeoutExpired:
                raise CannotRun(f"sslyze did not finish within {args.timeout:g}s")
            try:
                with open(json_path) as f:
                    data = json.load(f)
            except (OSError, ValueError):
                raise CannotRun(f"sslyze exited {proc.returncode} without JSON output:\n{proc.stdout}{proc.stderr}".rstrip())
        if data.get("invalid_server_strings"):
            bad = data["invalid_server_strings"][0]
            raise CannotRun(f"sslyze rejected the target {bad.get('server_string')}: {bad.get('error_message')}")
        results = data.get("server_scan_results") or []
        if not results:
            raise CannotRun(f"sslyze returned no result:\n{proc.stdout}{proc.stderr}".rstrip())
        res = results[0]
        if res.get("connectivity_status") != "COMPLETED":
            trace = [l for l in str(res.get("connectivity_error_trace") or "").splitlines() if l.strip()]
            why = trace[-1].strip() if trace else res.get("connectivity_status")
            raise CannotRun(f"sslyze could not connect to {args.target}: {why}")
        verdict = parse_compliance(proc.stdout)
        if verdict is None:
            failed = failed_commands(res.get("scan_result"))
            raise CannotRun(
                f"sslyze gave no compliance verdict (exit {proc.returncode})"
                + (f"; failed scan commands: {', '.join(failed)}" if failed else f":\n{proc.stdout[-2000:]}")
            )
        compliant, issues = verdict
        if compliant != (proc.returncode == 0):
            raise CannotRun(f"sslyze's exit status {proc.returncode} disagrees with its verdict; output:\n{proc.stdout[-2000:]}")
    except CannotRun as e:
        print(f"tls_profile: cannot run: {e}", file=sys.stderr)
        return 2

    if args.json:
        data["mozilla_compliance"] = {"profile": args.profile, "compliant": compliant, "issues": issues}
        with open(args.json, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
    if compliant:
        print(f"[figure] sslyze Mozilla {args.profile}: compliant")
    else:
        reasons = "; ".join(f"{k}: {v.rstrip('.')}" for k, v in issues.items())
        print(f"[figure] sslyze Mozilla {args.profile}: not compliant: {reasons}")
    for line in describe(res.get("scan_result") or {}):
        print("    " + line)
    if args.expect == "compliant" and not compliant:
        print(f"tls_profile: expectation not met: not compliant with Mozilla {args.profile} ({', '.join(issues)})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
