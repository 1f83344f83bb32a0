#!/usr/bin/env bash
# Regression test: make targets keep every tool's state inside the checkout (.build/), never in the
# user's home, where e.g. a collection ansible-lint installs would shadow the user's own copy.
# Runs the targets with a fresh empty HOME and a clean environment (PATH, temp dir, locale, proxy
# and pip/CA settings kept), then fails listing whatever appeared under that HOME.
# Usage: tests/tools/home-untouched.sh TARGET...   (e.g. unit lint)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || { echo "usage: $0 TARGET..." >&2; exit 2; }

# What may appear anyway, for the reason given; "*" applies to every target.
declare -A allowed=(
  ["*|.rustup/settings.toml"]="rustup's proxies, if on PATH, write it when pip probes 'rustc --version' for its user agent; the machine's toolchain, not the project's"
  ["sanity|.ansible/test/cache/*"]="ansible-test reads its get-pip bootstrap from ~/.ansible/test/cache only (hard-coded, no setting)"
  ["sanity|.ansible/test/venv/*"]="ansible-test keeps its sanity venvs in ~/.ansible/test/venv only (hard-coded, no setting)"
  ["sanity|.ansible/tmp*"]="ansible-test runs ansible with HOME and PATH only (no ANSIBLE_HOME), its ansible-local-* dirs stay"
  ["sanity|.cache/uv/*"]="ansible-test units passes the unit tests HOME and PATH only (no XDG_CACHE_HOME), so the uv they run caches in ~/.cache/uv"
)

home=$(mktemp -d "${TMPDIR:-/tmp}/nbops-home.XXXXXX")
trap 'rm -rf "$home"' EXIT
keep=(HOME="$home")
for var in PATH TMPDIR LANG LC_ALL TERM PIP_CERT PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS \
    REQUESTS_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy no_proxy HTTP_PROXY \
    HTTPS_PROXY NO_PROXY; do
  [ -z "${!var+set}" ] || keep+=("$var=${!var}")
done

rc=0
env -i "${keep[@]}" make -C "$repo" --no-print-directory "$@" || rc=$?

found=0
declare -A hits=()
while IFS= read -r path; do
  match=
  for key in "${!allowed[@]}"; do
    target=${key%%|*} pattern=${key#*|}
    # shellcheck disable=SC2053 # the allow-list holds glob patterns
    if [[ $path == $pattern ]] && { [ "$target" = "*" ] || [[ " $* " == *" $target "* ]]; }; then
      match=$key
      break
    fi
  done
  if [ -n "$match" ]; then
    hits[$match]=$(( ${hits[$match]:-0} + 1 ))
  else
    echo "home-untouched: written outside the checkout: ~/$path" >&2
    found=$((found + 1))
  fi
done < <(cd "$home" && find . -mindepth 1 \( ! -type d -o -type d -empty \) -printf '%P\n' | sort)
for key in "${!hits[@]}"; do
  echo "home-untouched: allowed ${hits[$key]} path(s) ~/${key#*|} (${allowed[$key]})"
done

if [ "$found" -ne 0 ]; then
  echo "home-untouched: FAIL: make $* wrote $found path(s) into HOME (listed above)" >&2
  exit 1
fi
[ "$rc" -eq 0 ] || { echo "home-untouched: make $* failed (rc $rc)" >&2; exit "$rc"; }
echo "home-untouched: make $* left HOME untouched"
