#!/usr/bin/env bash
# Lay out what ansible-builder needs beside the definition, in DIR:
#   DIR/execution-environment.yml   this directory's definition
#   DIR/nbops-jupyter.tar.gz        the collection as Galaxy would get it (ansible-galaxy build)
#   DIR/pip/pip.conf [, ca.pem]     pip settings for the build: this machine's CA bundle and index
#                                   when PIP_CERT / REQUESTS_CA_BUNDLE / SSL_CERT_FILE or
#                                   PIP_INDEX_URL are set (a proxy's CA, a mirror); removed from the image
# Then `ansible-builder create|build -f DIR/execution-environment.yml -c DIR/context`.
# Usage: stage.sh DIR   (ansible-galaxy on PATH)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
dir=${1:?usage: stage.sh DIR}

rm -rf "$dir"
mkdir -p "$dir/dist" "$dir/pip"
cp "$here/execution-environment.yml" "$dir/"
(cd "$root" && ansible-galaxy collection build --force --output-path "$dir/dist" >/dev/null)
mv "$dir"/dist/nbops-jupyter-*.tar.gz "$dir/nbops-jupyter.tar.gz"
rmdir "$dir/dist"

{
  echo "# pip settings for building the execution environment (stage.sh); not in the image."
  echo "[global]"
  ca=${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-}}}
  if [ -n "$ca" ] && [ -f "$ca" ]; then
    cp "$ca" "$dir/pip/ca.pem"
    echo "cert = /etc/nbops-ee-build/ca.pem"
  fi
  # An index with credentials in its URL would end up in a layer of the image: not carried.
  if [ -n "${PIP_INDEX_URL:-}" ] && [[ "$PIP_INDEX_URL" != *@* ]]; then
    echo "index-url = $PIP_INDEX_URL"
  fi
} >"$dir/pip/pip.conf"
echo "ee: staged $dir (collection $(tar -xzOf "$dir/nbops-jupyter.tar.gz" MANIFEST.json | python3 -c 'import json,sys; i=json.load(sys.stdin)["collection_info"]; print(i["namespace"]+"."+i["name"], i["version"])'))"
