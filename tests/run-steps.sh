#!/usr/bin/env bash
# Run named steps in order, print how long each took, and exit non-zero if any failed.
# Every step runs even after a failure, so one red run shows everything that is broken.
# Usage: run-steps.sh "name::command" ...
set -uo pipefail
results=() failed=0 passed=0 start_all=$SECONDS
for step in "$@"; do
  name=${step%%::*} cmd=${step#*::}
  echo
  echo "==> [$(date -u +%H:%M:%S)] step $name: $cmd"
  start=$SECONDS
  if bash -c "$cmd"; then
    status=ok; passed=$((passed + 1))
  else
    status="FAILED (exit $?)"; failed=$((failed + 1))
  fi
  results+=("$(printf '%-28s %6ss  %s' "$name" "$((SECONDS - start))" "$status")")
  echo "<== step $name: $status in $((SECONDS - start)) s"
done
echo
echo "Step                          time  result"
printf '%s\n' "${results[@]}"
echo "total $((SECONDS - start_all)) s"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
