#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Install the scanners tests/scan runs, into this checkout's .build/scan only:
#   .build/scan/observatory  the MDN HTTP Observatory scanner (npm @mdn/mdn-http-observatory, the
#                            version and lockfile in tests/scan/npm), by npm ci --ignore-scripts
#   .build/scan/venv         sslyze (requirements/scan.txt), in its own venv
# Idempotent: each part has a stamp keyed on what it was installed from (lockfile or
# requirements, and the node or python version) and is skipped while that matches.
# Touches nothing outside .build/scan but npm's and pip's caches: no global npm prefix, no
# system packages. Needs node >= 20 and npm on PATH, and python3 with venv.
# Usage: tests/scan/install.sh [--force]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/scan
build=$repo/.build/scan
obs=$build/observatory
venv=$build/venv
python=${PYTHON:-python3}
force=${1:-}

mkdir -p "$build"
exec 9>"$build/.install.lock"
flock 9  # two runs at once take turns

key() { sha256sum "$@" | sha256sum | cut -c1-16; }

# --- MDN HTTP Observatory -------------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install.sh: node and npm are needed (node >= 20) for the Observatory scanner" >&2; exit 2
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "install.sh: node $(node --version) is too old: the scanner needs >= 20" >&2; exit 2; }
obs_version=$(node -p 'require(process.argv[1]).dependencies["@mdn/mdn-http-observatory"]' "$here/npm/package.json")
obs_key="observatory $obs_version lock $(key "$here/npm/package.json" "$here/npm/package-lock.json") node $node_major"
pkg=$obs/node_modules/@mdn/mdn-http-observatory
if [ "$force" != --force ] && [ "$(cat "$obs/.nbops-stamp" 2>/dev/null)" = "$obs_key" ] && [ -f "$pkg/bin/wrapper.js" ]; then
  echo "install.sh: MDN HTTP Observatory $obs_version already in $obs"
else
  echo "install.sh: installing MDN HTTP Observatory $obs_version into $obs"
  start=$(date +%s)
  rm -rf "${obs:?}"
  mkdir -p "$obs"
  cp "$here/npm/package.json" "$here/npm/package-lock.json" "$obs/"
  # --ignore-scripts: the packages' install scripts download lists (HSTS preload, TLDs, CA bundle)
  # from hosts this machine cannot reach, and would build pg-native, which the CLI never loads.
  (cd "$obs" && npm_config_global=false npm ci --ignore-scripts --no-audit --no-fund \
     --no-update-notifier --loglevel=error)
  # What the skipped scripts would have written: an empty HSTS preload list (so no name counts
  # as preloaded) and the CA bundle file the wrapper names in NODE_EXTRA_CA_CERTS, empty until
  # observatory.py appends the CA it is given.
  echo '{}' >"$pkg/conf/hsts-preload.json"
  bundle_dir=$(cd "$pkg/bin" && node -p 'require("path").dirname(require.resolve("node_extra_ca_certs_mozilla_bundle/package.json"))')
  mkdir -p "$bundle_dir/ca_bundle"
  : >"$bundle_dir/ca_bundle/ca_intermediate_bundle.pem"
  got=$(node -p 'require(process.argv[1]).version' "$pkg/package.json")
  [ "$got" = "$obs_version" ] || { echo "install.sh: npm installed $got, not $obs_version" >&2; exit 1; }
  (cd "$obs" && node "$pkg/bin/wrapper.js" --version >/dev/null)
  echo "$obs_key" >"$obs/.nbops-stamp"
  echo "install.sh: MDN HTTP Observatory $got installed in $(( $(date +%s) - start ))s"
fi

# --- sslyze -----------------------------------------------------------------------------------
py_version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
venv_key="sslyze $(key "$repo/requirements/scan.txt") python $py_version $(command -v "$python")"
if [ "$force" != --force ] && [ "$(cat "$venv/.nbops-stamp" 2>/dev/null)" = "$venv_key" ] && [ -x "$venv/bin/python" ]; then
  echo "install.sh: sslyze already in $venv"
else
  echo "install.sh: installing sslyze into $venv"
  start=$(date +%s)
  rm -rf "${venv:?}"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check -q -r "$repo/requirements/scan.txt"
  want=$(sed -n 's/^sslyze==//p' "$repo/requirements/scan.txt")
  got=$("$venv/bin/python" -c 'from sslyze.__version__ import __version__; print(__version__)')
  [ "$got" = "$want" ] || { echo "install.sh: pip installed sslyze $got, not $want" >&2; exit 1; }
  "$venv/bin/python" -m sslyze --help >/dev/null
  echo "$venv_key" >"$venv/.nbops-stamp"
  echo "install.sh: sslyze $got installed in $(( $(date +%s) - start ))s"
fi
