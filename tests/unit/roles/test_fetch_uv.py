# SPDX-License-Identifier: GPL-3.0-or-later
"""fetch_uv.py against a package index served on 127.0.0.1: wheel choice, sha256, both index formats."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import zipfile

import pytest


GLIBC = (2, 36)


@pytest.mark.parametrize(("filename", "arch", "expected"), [
    ("uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "x86_64", (0, 13, 9)),
    ("uv-0.13.9-py3-none-manylinux_2_28_aarch64.whl", "aarch64", (0, 13, 9)),
    ("uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "aarch64", None),
    ("uv-0.13.9-py3-none-manylinux_2_39_x86_64.whl", "x86_64", None),  # needs a newer glibc
    ("uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl", "x86_64", None),
    ("uv-0.14.0a1-py3-none-manylinux_2_17_x86_64.whl", "x86_64", None),  # pre-release
    ("uv-0.13.9.tar.gz", "x86_64", None),
])
def test_supported_picks_stable_wheels_this_glibc_and_cpu_can_run(fetch_uv, filename, arch, expected):
    assert fetch_uv.supported(filename, arch, GLIBC) == expected


def test_pep503_links_carry_hash_and_yank_mark(fetch_uv):
    parser = fetch_uv.Links()
    parser.feed('<a href="../../files/uv-1.0.0-py3-none-manylinux_2_17_x86_64.whl#sha256=ab12">x</a>'
                '<a href="uv-0.9.0-py3-none-manylinux_2_17_x86_64.whl" data-yanked="">y</a>')
    first, second = parser.files
    assert first["filename"] == "uv-1.0.0-py3-none-manylinux_2_17_x86_64.whl"
    assert first["hashes"] == {"sha256": "ab12"} and not first["yanked"]
    assert second["yanked"] and second["hashes"] == {}


def wheel(version, payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"uv-{version}.data/scripts/uv", payload)
        archive.writestr(f"uv-{version}.dist-info/METADATA", "Name: uv\n")
    return buffer.getvalue()


@pytest.fixture
def index(fetch_uv):
    """A simple index with an old, a yanked newer and a current wheel for this machine."""
    import platform
    arch = fetch_uv.ARCH.get(platform.machine(), platform.machine())
    files = {}
    for version, payload, yanked in (("0.1.0", b"old", False), ("9.0.0", b"yanked", True), ("1.2.3", b"#!uv 1.2.3", False)):
        name = f"uv-{version}-py3-none-manylinux_2_17_{arch}.manylinux2014_{arch}.whl"
        files[name] = (wheel(version, payload), yanked)
    state = {"format": "json", "corrupt": False}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/simple/uv/":
                entries = [{"filename": n, "url": f"/files/{n}", "hashes": {"sha256": hashlib.sha256(d).hexdigest()},
                            "yanked": y} for n, (d, y) in files.items()]
                if state["format"] == "json":
                    body, kind = json.dumps({"files": entries}).encode(), "application/vnd.pypi.simple.v1+json"
                else:
                    body = "".join(f'<a href="{e["url"]}#sha256={e["hashes"]["sha256"]}"{" data-yanked" if e["yanked"] else ""}>'
                                   f'{e["filename"]}</a>' for e in entries).encode()
                    kind = "text/html"
            elif self.path.startswith("/files/") and self.path[7:] in files:
                body, kind = files[self.path[7:]][0], "application/octet-stream"
                if state["corrupt"]:
                    body = body[:-1] + b"!"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/simple", state
    server.shutdown()


def run(script, url, dest, *version):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run([sys.executable, script, url, str(dest), *version],
                          capture_output=True, text=True, env=env, check=False)


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_newest_unyanked_wheel_is_unpacked_executable(fetch_uv, index, tmp_path, fmt):
    url, state = index
    state["format"] = fmt
    proc = run(fetch_uv.__file__, url, tmp_path / "uv")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == "1.2.3"
    assert (tmp_path / "uv").read_bytes() == b"#!uv 1.2.3"
    assert os.stat(tmp_path / "uv").st_mode & 0o777 == 0o755


def test_sha256_mismatch_writes_nothing(fetch_uv, index, tmp_path):
    url, state = index
    state["corrupt"] = True
    proc = run(fetch_uv.__file__, url, tmp_path / "uv")
    assert proc.returncode != 0 and "sha256" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_pinned_version_takes_that_release_not_the_newest(fetch_uv, index, tmp_path):
    url, dummy = index
    proc = run(fetch_uv.__file__, url, tmp_path / "uv", "0.1.0")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == "0.1.0" and (tmp_path / "uv").read_bytes() == b"old"


@pytest.mark.parametrize("version", ["2.0.0", "9.0.0"])  # not on the index; yanked
def test_pinned_version_the_index_lacks_names_the_variable_and_writes_nothing(fetch_uv, index, tmp_path, version):
    url, dummy = index
    proc = run(fetch_uv.__file__, url, tmp_path / "uv", version)
    assert proc.returncode != 0 and f"uv {version}" in proc.stderr and "notebook_uv_version" in proc.stderr
    assert list(tmp_path.iterdir()) == []
