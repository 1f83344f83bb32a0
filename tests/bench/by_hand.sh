#!/usr/bin/env bash
# The blog-post recipe, done by hand on a fresh Debian host, as fast as a person could paste it:
# venv, pip install notebook, passwd(), openssl req -x509, a config file, start, browse.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3-venv openssl >/dev/null
python3 -m venv /opt/notebook
/opt/notebook/bin/pip install -q --disable-pip-version-check notebook
hash=$(/opt/notebook/bin/python -c 'from jupyter_server.auth import passwd; print(passwd("bench-password"))')
mkdir -p /root/.jupyter /root/notebooks
openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 397 \
  -keyout /root/.jupyter/key.pem -out /root/.jupyter/cert.pem -subj "/CN=$(hostname)" \
  -addext "subjectAltName=DNS:$(hostname),DNS:localhost,IP:127.0.0.1" 2>/dev/null
cat >/root/.jupyter/jupyter_server_config.py <<CONFIG
c.ServerApp.certfile = "/root/.jupyter/cert.pem"
c.ServerApp.keyfile = "/root/.jupyter/key.pem"
c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = 8888
c.ServerApp.open_browser = False
c.ServerApp.root_dir = "/root/notebooks"
c.PasswordIdentityProvider.hashed_password = "$hash"
CONFIG
nohup /opt/notebook/bin/jupyter notebook --allow-root >/var/log/notebook.log 2>&1 &
python3 - <<'PY'
import ssl, time, urllib.request
ctx = ssl.create_default_context(cafile="/root/.jupyter/cert.pem")
for _ in range(600):
    try:
        if urllib.request.urlopen("https://127.0.0.1:8888/api", context=ctx, timeout=2).status == 200:
            break
    except Exception:
        time.sleep(0.1)
else:
    raise SystemExit("the server never answered")
PY
