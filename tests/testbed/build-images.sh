#!/usr/bin/env bash
# Build the systemd platform images the molecule scenarios and `make demo` run on:
#   nbops-testbed:debian12 (bookworm), nbops-testbed:debian13 (trixie).
# The Dockerfile starts FROM debian:<suite>. Where that base cannot be pulled (no registry, as on
# CI here) it is made with debootstrap from the Debian mirror apt already uses, and imported under
# the name the Dockerfile expects. Images that already exist are not built again.
# Usage: build-images.sh [bookworm] [trixie]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)

declare -A tag_of=([bookworm]=debian12 [trixie]=debian13)
# Everything the Dockerfile installs, so that its apt step finds the work done.
include=systemd,systemd-sysv,dbus,python3,ca-certificates,iproute2,procps,sudo

debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base() {
  local suite=$1 root
  docker image inspect "debian:$suite" >/dev/null 2>&1 && return 0
  if docker pull -q "debian:$suite" >/dev/null 2>&1; then
    return 0
  fi
  command -v debootstrap >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  root=$(mktemp -d "/var/tmp/nbops-$suite.XXXXXX")
  echo "testbed: no registry; debootstrapping debian:$suite from $(debian_mirror)"
  debootstrap --variant=minbase --include="$include" "$suite" "$root" "$(debian_mirror)" \
    >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; rm -rf "$root"; return 1; }
  # Same sources a debian:<suite> image would have.
  tar -C "$root" -c . | docker import - "debian:$suite" >/dev/null
  rm -rf "$root" "$root.log"
}

# An image is rebuilt when the Dockerfile it was built from changed (a label carries its hash).
recipe=$(sha256sum "$here/Dockerfile" | cut -c1-16)

build() {
  local suite=$1 tag="nbops-testbed:${tag_of[$1]}" start=$SECONDS
  if [ "$(docker image inspect -f '{{ index .Config.Labels "nbops.testbed" }}' "$tag" 2>/dev/null)" = "$recipe" ]; then
    echo "testbed: $tag exists, not rebuilt"
    return 0
  fi
  ensure_base "$suite"
  docker build -q --label "nbops.testbed=$recipe" --build-arg "SUITE=$suite" -t "$tag" "$here" >/dev/null
  echo "testbed: built $tag in $((SECONDS - start)) s"
}

pids=()
for suite in "${suites[@]}"; do
  [ -n "${tag_of[$suite]:-}" ] || { echo "testbed: unknown suite $suite" >&2; exit 2; }
  build "$suite" & pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
exit $rc
