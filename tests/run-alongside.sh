#!/usr/bin/env bash
# Run commands at the same time: each but the last into .build/alongside/<n>.log, printed whole
# when it ends; the last one in the foreground. Exits non-zero if any failed.
# Why: make test's static steps (unit, lint, sanity, galaxy, ee) use about one core and need no
# container; run beside the image build, the demo and molecule, they fill the core those leave.
# Usage: run-alongside.sh COMMAND... (each one shell command line)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
logs=$repo/.build/alongside
mkdir -p "$logs"
[ $# -gt 0 ] || { echo "usage: $0 COMMAND..." >&2; exit 2; }

pids=() names=() n=0
while [ $# -gt 1 ]; do
  n=$((n + 1))
  log=$logs/$n.log
  echo "==> [$(date -u +%H:%M:%S)] alongside: $1 (log: .build/alongside/$n.log, printed when it ends)"
  (
    rc=0
    bash -c "$1" >"$log" 2>&1 || rc=$?
    echo "==> [$(date -u +%H:%M:%S)] alongside ended (exit $rc): $1"
    cat "$log"
    exit "$rc"
  ) & pids+=($!) names+=("$1")
  shift
done

failed=0
bash -c "$1" || { echo "FAILED: $1"; failed=1; }
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "FAILED: ${names[$i]}"; failed=1; }
done
exit "$failed"
