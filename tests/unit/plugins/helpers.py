# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for the plugins' tests: run a module's main() as Ansible would, build wheels, serve a
package index over HTTPS on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import grp
import hashlib
import http.server
import io
import json
import os
import platform
import pwd
import ssl
import threading
import zipfile
from unittest import mock
from pathlib import Path

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args


# The server's account in the modules' tests, the user that plants links: uid and gid 65534.
NOBODY = 65534


def nobody_account() -> tuple[str, str] | None:
    """The names of the user and group with id 65534, or None where there are none."""
    try:
        return pwd.getpwuid(NOBODY).pw_name, grp.getgrgid(NOBODY).gr_name
    except KeyError:
        return None


# Marks of a test module that chowns to that account: it needs root, and the account.
AS_ROOT_WITH_NOBODY = [pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root"),
                       pytest.mark.skipif(nobody_account() is None, reason="no user and group with id 65534 here")]


def run_module(module, args: dict, check_mode: bool = False) -> dict:
    """Run ``module.main()`` with ``args``; return its JSON answer (failed ones too).

    As on a host: once controller code is imported (other tests do), ansible-core would print a
    module's warnings instead of returning them."""
    out = io.StringIO()
    # On a host each module runs in a process of its own: no warning of an earlier run carries over.
    module_warnings._global_warnings.clear()  # pylint: disable=protected-access
    args = {**args, "_ansible_check_mode": check_mode, "_ansible_remote_tmp": "/tmp", "_ansible_keep_remote_files": False}
    with patch_module_args(args), contextlib.redirect_stdout(out), \
            mock.patch.object(module_utils_internal, "is_controller", False):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(out.getvalue())


def build_wheel(directory: Path, name: str, version: str, scripts: dict | None = None) -> Path:
    """A minimal, valid pure-Python wheel (or, with ``scripts``, one carrying binaries as uv's does)."""
    directory.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {f"{module}/__init__.py": f"VERSION = {version!r}\n".encode()}
    for script, data in (scripts or {}).items():
        files[f"{module}-{version}.data/scripts/{script}"] = data
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: nbops-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = [f"{path},sha256={_b64(hashlib.sha256(data).digest())},{len(data)}" for path, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    tag = "py3-none-any"
    if scripts:
        arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine(), platform.machine())
        tag = f"py3-none-manylinux_2_17_{arch}.manylinux2014_{arch}"
    path = directory / f"{module}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for item, data in files.items():
            info_ = zipfile.ZipInfo(item)
            info_.external_attr = (0o755 if ".data/scripts/" in item else 0o644) << 16
            archive.writestr(info_, data)
    return path


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Index:
    """A PEP 691 simple index on https://127.0.0.1:PORT/simple/ with the files given to ``add``."""

    def __init__(self, tls_files):
        self.files: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.hashes = True
        self.down = False
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.do_GET(head=True)

            def do_GET(self, head=False):
                index.requests.append({"path": self.path, "headers": dict(self.headers)})
                if index.down:
                    self.send_error(503)
                    return
                project = self.path.strip("/").split("/")
                if project[:1] == ["simple"] and len(project) == 2:
                    entries = [{"filename": name, "url": f"/files/{name}", "yanked": item["yanked"],
                                "hashes": {"sha256": hashlib.sha256(item["data"]).hexdigest()} if index.hashes else {}}
                               for name, item in index.files.items() if name.startswith(project[1].replace("-", "_") + "-")]
                    body, kind = json.dumps({"meta": {"api-version": "1.0"}, "name": project[1], "files": entries}).encode(), \
                        "application/vnd.pypi.simple.v1+json"
                elif self.path.startswith("/files/") and self.path[7:] in index.files:
                    body, kind = index.files[self.path[7:]]["data"], "application/octet-stream"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*map(str, tls_files))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/simple"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: Path, yanked: bool = False):
        self.files[path.name] = {"data": path.read_bytes(), "yanked": yanked}
