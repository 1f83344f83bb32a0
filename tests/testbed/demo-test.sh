#!/usr/bin/env bash
# The user's first five minutes, as a test: `make demo` on its own container and port, again
# (must change nothing), a real browser logs in and runs a cell; then the same demo switched to
# `make demo TLS=private_ca FRONTEND=lab`, and a browser that trusts only its CA (no pin, no
# click-through) logs in, lands on JupyterLab and runs a cell there and in Notebook; then
# `make demo-down`, which removes the CA too.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# matplotlib: the browser test sees an inline plot rendered under the server's web policy.
export DEMO_NAME=nbops-demo-test DEMO_PORT=${DEMO_TEST_PORT:-18888} DEMO_EXTRA_PACKAGES=matplotlib
export TLS=self_signed FRONTEND=notebook  # whatever `make demo-test TLS=...` exported: each part sets its own
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

# chromium; certutil (libnss3-tools) makes the NSS database through which chromium trusts the CA.
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v certutil >/dev/null || need+=(libnss3-tools)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
NB_URL="https://127.0.0.1:$DEMO_PORT/" NB_PASSWORD_FILE="$state/password" NB_CA="$state/cert.pem" \
  NB_SCREENSHOT="$repo/.build/artifacts/first-login.png" \
  python -m pytest "$repo/tests/browser" -p no:cacheprovider -q -rA
echo "screenshot: .build/artifacts/first-login.png"

# The trusted setup: the same demo (its venv and password kept) switched to a private CA; the
# converge re-issues the certificate, signed by a CA made in $state/notebook-ca. The same converge
# switches notebook_frontend to lab (no converge of its own: Notebook 7 already brought jupyterlab,
# and the config it changes restarts the server once with the TLS change).
start=$SECONDS
TLS=private_ca FRONTEND=lab "$demo" up | tee "$repo/.build/demo-private-ca.log"
ca_run=$((SECONDS - start))
ca=$state/notebook-ca/ca.pem
grep -qF "Private CA:               $ca" "$repo/.build/demo-private-ca.log" \
  || { echo "make demo TLS=private_ca did not show the CA's path"; exit 1; }
shown=$(sed -n 's/^CA SHA-256: *//p' "$repo/.build/demo-private-ca.log")
# The role's own line: "Private CA <path> (SHA-256 <fingerprint>): ..." - the same CA.
role=$(grep -o "Private CA $ca (SHA-256 [0-9A-Fa-f:]*" "$state/deploy.log" | head -n 1 | sed 's/^.*SHA-256 //')
if [ -z "$shown" ] || [ "${shown//:/}" != "$(tr -d : <<<"${role^^}")" ]; then
  echo "the CA fingerprint shown ($shown) is not the role's ($role)"; exit 1
fi
[ "$(stat -c %a "$(dirname "$ca")")/$(stat -c %a "$(dirname "$ca")/ca.key")" = 700/600 ] \
  || { echo "the CA's directory is not 0700 or its key not 0600"; exit 1; }
echo "[figure] make demo TLS=private_ca FRONTEND=lab on the running demo: ${ca_run} s"
# localhost: a name of the certificate. Login lands on /lab, /tree still served, a notebook and its
# cell in both UIs, the browser's verdict.
tests=$repo/tests/browser/test_first_login.py
start=$SECONDS
NB_URL="https://localhost:$DEMO_PORT/" NB_PASSWORD_FILE="$state/password" NB_TRUST_CA="$ca" NB_FRONTEND=lab \
  NB_SCREENSHOT="$repo/.build/artifacts/private-ca-login.png" \
  python -m pytest -p no:cacheprovider -q -rA "$tests::test_log_in_and_see_the_file_browser" \
  "$tests::test_login_lands_on_the_frontend" "$tests::test_log_in_create_a_notebook_and_run_a_cell" \
  "$tests::test_jupyterlab_runs_a_cell" "$tests::test_the_browser_verifies_the_server_against_the_ca" \
  "$tests::test_html_pages_carry_the_policy" "$tests::test_no_csp_violation_anywhere"
echo "[figure] browser test, private CA and JupyterLab landing: $((SECONDS - start)) s"
echo "screenshot: .build/artifacts/private-ca-login.png (landing: private-ca-login-landing.png)"

"$demo" down >/dev/null
[ ! -e "$state" ] || { echo "make demo-down left $state (the CA) behind"; exit 1; }
