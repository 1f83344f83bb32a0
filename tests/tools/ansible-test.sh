#!/usr/bin/env bash
# Run ansible-test on a copy of the committed tree laid out as ansible_collections/nbops/jupyter
# (ansible-test insists on that path and resolves symlinks).
# Usage: tests/tools/ansible-test.sh sanity|units [ansible-test options]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# ansible-test bootstraps pip in its venvs with a script from a host this machine can't reach;
# its own message says to put one in the cache. This one uses ensurepip and PyPI instead.
# The cache (and ansible-test's sanity venvs, ~/.ansible/test/venv) stays under HOME: ansible-test
# hard-codes both paths, has no setting for them, and drops ANSIBLE_HOME from what it runs.
cache=${HOME}/.ansible/test/cache
if ! ls "$cache"/get_pip_*.py >/dev/null 2>&1 || [ -n "${NBOPS_REFRESH_GET_PIP:-}" ]; then
  mkdir -p "$cache"
  version=$(python3 -c 'import re, ansible_test._internal.python_requirements as m
print(re.search(r"pip=.([0-9.]+).,", open(m.__file__).read()).group(1))')
  cat >"$cache/get_pip_${version//./_}.py" <<PY
import subprocess, sys
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "pip==${version}"])
PY
fi

cd "$("$repo/tests/tools/collection-copy.sh" "${TMPDIR:-/tmp}/nbops-ansible-test")"
exec ansible-test "$@"
