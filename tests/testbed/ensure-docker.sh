#!/usr/bin/env bash
# Make sure a Docker engine answers. CI machines have the client but no engine: install Debian's
# docker.io and start dockerd in the background (it outlives this script on purpose).
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "testbed: installing Debian's docker.io (no Docker engine found)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
fi

if ! pgrep -x dockerd >/dev/null; then
  echo "testbed: starting dockerd (log: /var/log/nbops-dockerd.log)"
  nohup dockerd >/var/log/nbops-dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "testbed: dockerd did not answer within 60 s; see /var/log/nbops-dockerd.log" >&2
tail -n 20 /var/log/nbops-dockerd.log >&2 || true
exit 1
