#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The scanners against two local servers (testserver.py, 127.0.0.1 only): a poor one (no security
# headers, OpenSSL's default TLS) must be flagged, a good one (Mozilla intermediate TLS, the
# headers the Observatory looks for) must pass. Makes a test CA (once) and a leaf for localhost,
# prints every [figure] line, ends with "selftest: N passed, N failed"; exit 1 on any failure.
# Needs 127.0.0.1:443 and :80 free (observatory.py forwards them during its scans).
# Usage: tests/scan/selftest.sh   (runs install.sh first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/install.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nbops-scan-selftest.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# A test CA (ECDSA P-256), kept in .build/scan/selftest-ca so that the scanner's bundle, which
# observatory.py appends it to, gets it once and not one more CA per run; and a fresh 30-day
# leaf for localhost from it: serverAuth, CA:FALSE.
ca=$(cd "$here/../.." && pwd)/.build/scan/selftest-ca
if ! openssl x509 -in "$ca/ca.pem" -noout -checkend $((40 * 86400)) >/dev/null 2>&1 || [ ! -f "$ca/ca.key" ]; then
  mkdir -p "$ca"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=nbops scan selftest CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$ca/ca.key" -out "$ca/ca.pem" 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" >"$tmp/leaf.ext"
openssl x509 -req -in "$tmp/leaf.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial \
  -days 30 -sha256 -extfile "$tmp/leaf.ext" -out "$tmp/leaf.pem" 2>/dev/null

start_server() {  # NAME ARGS...: start testserver.py on free ports, wait for its "listening" lines
  local name=$1; shift
  python3 "$here/testserver.py" --port 0 --cert "$tmp/leaf.pem" --key "$tmp/leaf.key" "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    grep -q '^listening https' "$tmp/$name.log" && return 0
    sleep 0.2
  done
  echo "selftest: the $name server did not start:" >&2; cat "$tmp/$name.log" >&2; return 1
}
port_of() { sed -n "s|^listening $2://127.0.0.1:\([0-9]*\)/.*|\1|p" "$tmp/$1.log"; }

start_server poor --mode poor
start_server good --mode good --http-port 0
sleep 0.5  # the good server's plain-HTTP line comes right after its HTTPS one
poor=127.0.0.1:$(port_of poor https)
good=127.0.0.1:$(port_of good https)
good_http=127.0.0.1:$(port_of good http)
sed -n 's/^OPENSSL_CONF=/good server: OPENSSL_CONF=/p' "$tmp/good.log"

passed=0 failed=0
check() {  # WANT_STATUS DESCRIPTION COMMAND...
  local want=$1 what=$2 rc=0; shift 2
  echo "--- $what"
  "$@" || rc=$?
  if [ "$rc" = "$want" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "selftest: FAILED: $what: exit status $rc, expected $want"
  fi
}
check 1 "poor server: Observatory flags it (below A+)" \
  python3 "$here/observatory.py" --target "$poor" --ca "$ca/ca.pem" --expect-grade A+ --json "$tmp/poor-observatory.json"
check 1 "poor server: not Mozilla intermediate" \
  python3 "$here/tls_profile.py" --target "$poor" --name localhost --ca "$ca/ca.pem" --profile intermediate --expect compliant
check 0 "good server: Observatory A+, score >= 100" \
  python3 "$here/observatory.py" --target "$good" --http-target "$good_http" --ca "$ca/ca.pem" \
  --expect-grade A+ --expect-min-score 100 --json "$tmp/good-observatory.json"
check 0 "good server: Mozilla intermediate" \
  python3 "$here/tls_profile.py" --target "$good" --name localhost --ca "$ca/ca.pem" --profile intermediate --expect compliant
check 1 "good server: not Mozilla modern (it allows TLS 1.2)" \
  python3 "$here/tls_profile.py" --target "$good" --name localhost --ca "$ca/ca.pem" --profile modern --expect compliant
check 2 "a target off loopback is refused" \
  python3 "$here/tls_profile.py" --target 192.0.2.1:443 --profile intermediate

echo "selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
