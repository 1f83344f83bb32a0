#!/usr/bin/env bash
# Run molecule scenarios in parallel lanes, the scenarios of one lane one after the other; print
# each scenario's time and result and exit non-zero if any failed. Every scenario runs even
# after a failure. Each scenario's output goes to .build/molecule/<scenario>.log and is printed
# when its lane ends, so a red run shows what broke.
# Usage: run-lanes.sh "default alternative" "resilience" ...
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
logs=$repo/.build/molecule
mkdir -p "$logs"
molecule=${MOLECULE:-molecule}

lane() {
  for scenario in "$@"; do
    local start=$SECONDS rc=0
    echo "==> [$(date -u +%H:%M:%S)] molecule test -s $scenario (log: .build/molecule/$scenario.log)"
    "$molecule" test -s "$scenario" >"$logs/$scenario.log" 2>&1 || rc=$?
    echo "$scenario $((SECONDS - start)) $rc" >>"$logs/results"
    echo "<== [$(date -u +%H:%M:%S)] $scenario: $([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in $((SECONDS - start)) s"
  done
}

rm -f "$logs/results"
pids=()
for scenarios in "$@"; do
  # shellcheck disable=SC2086  # a lane is a space-separated list of scenario names
  lane $scenarios & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

failed=0
echo
echo "Scenario                      time  result"
while read -r scenario seconds rc; do
  printf '%-28s %6ss  %s\n' "molecule-$scenario" "$seconds" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")"
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    echo "---- last 150 lines of .build/molecule/$scenario.log ----"
    tail -n 150 "$logs/$scenario.log"
  fi
done <"$logs/results"
[ "$failed" -eq 0 ]
