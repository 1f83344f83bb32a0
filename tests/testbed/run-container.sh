#!/usr/bin/env bash
# Start a testbed container that boots systemd as PID 1, without --privileged (refused on these
# machines), and wait until systemd has finished booting. The molecule base config
# (.config/molecule/config.yml) gives its containers the same options. NET_ADMIN: fail2ban's
# nftables bans.
# Usage: run-container.sh NAME IMAGE [more docker run options...]
set -euo pipefail
name=$1 image=$2
shift 2
docker run -d --name "$name" --hostname "$name" \
  --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined --cgroupns=host \
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
  "$@" "$image" >/dev/null
# is-system-running answers "Failed to connect to bus" until systemd is up; "degraded" is booted.
for _ in $(seq 1 60); do
  state=$(docker exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
  case "$state" in running|degraded) exit 0 ;; esac
  sleep 0.5
done
echo "run-container: systemd in $name did not finish booting (state: ${state:-none})" >&2
exit 1
