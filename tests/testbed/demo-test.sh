#!/usr/bin/env bash
# The user's first five minutes, as a test: `make demo` on its own container and port, again
# (must change nothing), a real browser logs in and runs a cell, then `make demo-down`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# matplotlib: the browser test sees an inline plot rendered under the server's web policy.
export DEMO_NAME=nbops-demo-test DEMO_PORT=${DEMO_TEST_PORT:-18888} DEMO_EXTRA_PACKAGES=matplotlib
state=$repo/.build/$DEMO_NAME
demo=$repo/tests/testbed/demo.sh
trap '"$demo" down >/dev/null' EXIT

"$demo" down >/dev/null
start=$SECONDS
"$demo" up
first=$((SECONDS - start))
start=$SECONDS
"$demo" up >"$repo/.build/demo-second-run.log"
second=$((SECONDS - start))
recap=$(grep -E '^Ansible recap:' "$repo/.build/demo-second-run.log")
echo "second run: $recap"
[[ $recap == *" changed=0 "* ]] || { echo "make demo again changed something"; exit 1; }
grep -q "Password:                 in " "$repo/.build/demo-second-run.log" \
  || { echo "the second run showed the password again"; exit 1; }
[ "$(stat -c %a "$state/password")" = 600 ] || { echo "the password file is not 0600"; exit 1; }
echo "[figure] make demo: first run ${first} s, second run ${second} s (changed=0)"

command -v chromium >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}
NB_URL="https://127.0.0.1:$DEMO_PORT/" NB_PASSWORD_FILE="$state/password" NB_CA="$state/cert.pem" \
  NB_SCREENSHOT="$repo/.build/artifacts/first-login.png" \
  python -m pytest "$repo/tests/browser" -p no:cacheprovider -q -rA
echo "screenshot: .build/artifacts/first-login.png"
