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

# On ext4 without a journal (these machines' disk) the kernel skips every recently deleted inode
# when it allocates one, reading each one's inode table block: right after containers are
# destroyed, creating files costs up to 9x the CPU (30,000 files: 5.8 s against 0.7 s). Hosts
# have journaled filesystems, so there the engine keeps its data on a journaled ext4 image.
data_root=()
journaled_root() {
  local dir=/var/lib/nbops-docker image=/var/lib/nbops-docker.ext4
  if ! mountpoint -q "$dir"; then
    if [[ ! -e $image ]]; then
      truncate -s 48G "$image"
      mkfs.ext4 -q -F "$image"
    fi
    mkdir -p "$dir"
    mount -o loop,discard "$image" "$dir" || return 1
  fi
  data_root=(--data-root "$dir")
}
source_dev=$(findmnt -no SOURCE -T /var/lib 2>/dev/null || true)
if [[ $(findmnt -no FSTYPE -T /var/lib 2>/dev/null) == ext4 && $source_dev == /dev/* ]] &&
   ! compgen -G "/proc/fs/jbd2/$(basename "$source_dev")-*" >/dev/null; then
  journaled_root || echo "testbed: no loop mount here; the engine keeps its data on the journal-less disk" >&2
fi

if ! pgrep -x dockerd >/dev/null; then
  echo "testbed: starting dockerd ${data_root[*]} (log: /var/log/nbops-dockerd.log)"
  nohup dockerd "${data_root[@]}" >/var/log/nbops-dockerd.log 2>&1 &
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
