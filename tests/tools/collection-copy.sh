#!/usr/bin/env bash
# Copy the committed tree to ROOT/ansible_collections/nbops/jupyter and print that path.
# Tools that insist on that layout (ansible-test, antsibull-docs) resolve symlinks, and inside the
# checkout git would call every copied file ignored, so ROOT must be outside it.
# Usage: collection-copy.sh ROOT
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tree=$1/ansible_collections/nbops/jupyter
rm -rf "$tree"
mkdir -p "$tree"
git -C "$repo" ls-files -z | (cd "$repo" && tar --null -T - -cf -) | tar -xf - -C "$tree"
echo "$tree"
