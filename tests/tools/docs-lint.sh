#!/usr/bin/env bash
# antsibull-docs' lint of the collection's documentation: plugin DOCUMENTATION blocks and the
# role's argument spec (option references, markup), as the Ansible docs site would build them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${TMPDIR:-/tmp}/nbops-docs-lint
tree=$("$repo/tests/tools/collection-copy.sh" "$root")
cd "$tree"
PATH=$repo/.venv-docs/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$root antsibull-docs --config-file "$repo/tests/tools/antsibull-docs.cfg" lint-collection-docs --plugin-docs .
echo "antsibull-docs: collection docs lint clean"
