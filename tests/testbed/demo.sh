#!/usr/bin/env bash
# `make demo`: a secure notebook server in a local Debian 12 systemd container, deployed with
# playbooks/deploy.yml exactly as on a real host. `make demo-down` removes it.
# The collection is built into a tarball and installed from it into a clean collections path,
# and the playbook is called by its FQCN, as a user who installed it from Galaxy would.
#   DEMO_PORT (default 8888): the port published on 127.0.0.1 only.
#   DEMO_NAME (default nbops-demo): the container's name.
#   DEMO_EXTRA_PACKAGES (default none): more packages for the server's venv, comma-separated.
#   TLS (default self_signed): notebook_tls_mode, self_signed or private_ca (`make demo TLS=private_ca`:
#     a CA in .build/<name>/notebook-ca signs the server's certificate; trust that CA once).
#     Switching an existing demo to the other mode converges it there (the certificate is re-issued).
#   FRONTEND (default notebook): notebook_frontend, notebook (Notebook 7's /tree) or lab (`make demo
#     FRONTEND=lab`: users land on JupyterLab 4 at /lab; /tree stays reachable).
set -euo pipefail
tls=${TLS:-self_signed}
case "$tls" in
  self_signed | private_ca) ;;
  *) echo "TLS=$tls: TLS must be self_signed (the default) or private_ca" >&2; exit 2 ;;
esac
frontend=${FRONTEND:-notebook}
case "$frontend" in
  notebook | lab) ;;
  *) echo "FRONTEND=$frontend: FRONTEND must be notebook (the default) or lab" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
name=${DEMO_NAME:-nbops-demo}
port=${DEMO_PORT:-8888}
state=$repo/.build/$name
say() { printf '==> %s\n' "$*"; }

down() {
  if docker rm -f "$name" >/dev/null 2>&1; then say "removed container $name"; else say "no container $name"; fi
  rm -rf "$state"
}

up() {
  mkdir -p "$state"
  chmod 0700 "$state"
  if ! docker container inspect "$name" >/dev/null 2>&1; then
    say "starting container $name (Debian 12, systemd), port 127.0.0.1:$port"
    "$repo/tests/testbed/run-container.sh" "$name" nbops-testbed:debian12 -p "127.0.0.1:$port:8888"
  elif [ "$(docker container inspect -f '{{.State.Running}}' "$name")" != true ]; then
    say "starting the existing container $name"
    docker start "$name" >/dev/null
    for _ in $(seq 1 30); do
      docker exec "$name" systemctl is-system-running --wait >/dev/null 2>&1 && break
      sleep 1
    done
  else
    say "container $name is running"
  fi

  local new_password=false
  if [ ! -s "$state/password" ]; then
    say "generating a password"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$state/password")
    new_password=true
  fi
  # Handed to Ansible as a vars file: never on a command line, never in the output.
  (umask 077 && printf 'notebook_password: "%s"\n' "$(cat "$state/password")" >"$state/secrets.yml")
  printf 'notebook_extra_packages: %s\n' "$(python3 -c 'import json, sys; print(json.dumps([p for p in sys.argv[1].split(",") if p]))' "${DEMO_EXTRA_PACKAGES:-}")" \
    >"$state/vars.yml"
  printf 'notebook_tls_mode: %s\n' "$tls" >>"$state/vars.yml"
  # Only when asked: the default demo's vars stay those of earlier releases.
  if [ "$frontend" = lab ]; then
    printf 'notebook_frontend: lab\n' >>"$state/vars.yml"
  fi
  # The CA (ca.pem, ca.key) is made there by the first converge; `make demo-down` removes it with $state.
  if [ "$tls" = private_ca ]; then
    printf 'notebook_tls_ca_cert: "%s"\n' "$state/notebook-ca/ca.pem" >>"$state/vars.yml"
  fi
  cat >"$state/inventory.yml" <<INVENTORY
notebooks:
  hosts:
    $name:
      ansible_connection: community.docker.docker
INVENTORY

  say "building the collection and installing it from its tarball into $state/collections"
  rm -rf "$state/dist" "$state/collections"
  ansible-galaxy collection build "$repo" --output-path "$state/dist" >/dev/null
  ansible-galaxy collection install --force "$state"/dist/nbops-jupyter-*.tar.gz -p "$state/collections" 2>&1 \
    | grep -v "is not part of the configured Ansible collections paths" || true
  [ -f "$state/collections/ansible_collections/nbops/jupyter/MANIFEST.json" ] || { say "install from the tarball failed"; exit 1; }

  say "preparing the container like a host on this network (CA bundle, pip index)"
  ansible-playbook -i "$state/inventory.yml" "$repo/molecule/shared/prepare.yml" >"$state/prepare.log" 2>&1 \
    || { tail -n 30 "$state/prepare.log"; exit 1; }
  say "deploying with nbops.jupyter.deploy (log: $state/deploy.log)"
  local rc=0
  : >"$state/deploy.log"  # before tail follows it: not the last run's log, nor missing
  ANSIBLE_COLLECTIONS_PATH=$state/collections ANSIBLE_PIPELINING=true \
    ansible-playbook -i "$state/inventory.yml" -e "@$state/secrets.yml" -e "@$state/vars.yml" nbops.jupyter.deploy >"$state/deploy.log" 2>&1 &
  local pid=$!
  # Progress while it works: one line per task.
  tail -n +1 -f --pid "$pid" "$state/deploy.log" | grep --line-buffered -E '^(TASK|fatal|changed)' | sed -u 's/ \*\**$//' &
  wait "$pid" || rc=$?
  sleep 0.5
  if [ "$rc" -ne 0 ]; then tail -n 40 "$state/deploy.log"; say "deploy failed (exit $rc); log: $state/deploy.log"; exit 1; fi

  local fingerprint
  echo
  if [ "$frontend" = lab ]; then
    echo "JupyterLab is up:         https://127.0.0.1:$port/ (lands on /lab; Notebook at /tree)"
  else
    echo "Jupyter Notebook is up:   https://127.0.0.1:$port/"
  fi
  if [ "$tls" = private_ca ]; then
    rm -f "$state/cert.pem"  # a self-signed certificate of an earlier run: no longer served
    fingerprint=$(openssl x509 -in "$state/notebook-ca/ca.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')
    echo "Private CA:               $state/notebook-ca/ca.pem"
    echo "CA SHA-256:               $fingerprint"
    echo "                          (trust this CA once, as README.md \"A private CA: trust once\" shows; then no warning)"
  else
    fingerprint=$(docker exec "$name" openssl x509 -in /etc/jupyter-notebook/tls/live/cert.pem -noout -fingerprint -sha256 | sed 's/^.*=//')
    docker exec "$name" cat /etc/jupyter-notebook/tls/live/cert.pem >"$state/cert.pem"
    echo "Certificate SHA-256:      $fingerprint"
    echo "                          (check it in the browser's certificate view, or trust $state/cert.pem)"
  fi
  if $new_password; then
    echo "Password (shown once):    $(cat "$state/password")"
  else
    echo "Password:                 in $state/password (readable only by you)"
  fi
  echo "Stop and remove it:       make demo-down"
  grep -E '^[^ ]+ +: ok=' "$state/deploy.log" | sed 's/^/Ansible recap:            /' 
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
