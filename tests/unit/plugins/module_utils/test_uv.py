# SPDX-License-Identifier: GPL-3.0-or-later
"""_uv: the uv binary from its wheel on an HTTPS index on 127.0.0.1 (PEP 691 JSON or PEP 503 HTML)
or in a find-links directory: wheel choice, sha256, credentials and the atomic write."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import platform
import ssl
import subprocess
import threading

import pytest

from ansible_collections.nbops.jupyter.plugins.module_utils import _index, _uv

from ansible_collections.nbops.jupyter.tests.unit.plugins.helpers import build_wheel

GLIBC = (2, 36)
ARCH = _uv.ARCH.get(platform.machine(), platform.machine())
SECRET = "tok-3f9a1c"


class Pages:
    """An HTTPS server on 127.0.0.1 answering each path with ``routes[path]`` = (status, headers, body),
    recording every request with its headers as helpers.Index does."""

    def __init__(self, tls_files):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[dict] = []
        pages = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                pages.requests.append({"path": self.path, "headers": dict(self.headers)})
                status, headers, body = pages.routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*map(str, tls_files))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def publish(self, wheels, fmt="json", hashes=True, yanked=(), corrupt=False, files_at=""):
        """List ``wheels`` at /simple/uv/ (PEP 691 JSON or PEP 503 HTML) as files at ``files_at``/files/NAME,
        and serve them at /files/NAME (``corrupt``: one byte changed after the hash was taken)."""
        entries, links = [], []
        for path in wheels:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            url = f"{files_at}/files/{path.name}"
            entries.append({"filename": path.name, "url": url, "yanked": path.name in yanked,
                            "hashes": {"sha256": digest} if hashes else {}})
            fragment = f"#sha256={digest}" if hashes else ""
            mark = ' data-yanked=""' if path.name in yanked else ""
            links.append(f'<a href="{url}{fragment}"{mark}>{path.name}</a><br/>')
            self.routes[f"/files/{path.name}"] = (200, {"Content-Type": "application/octet-stream"},
                                                  data[:-1] + bytes([data[-1] ^ 1]) if corrupt else data)
        if fmt == "json":
            body = json.dumps({"meta": {"api-version": "1.0"}, "name": "uv", "files": entries})
            kind = "application/vnd.pypi.simple.v1+json"
        else:
            body = "<!DOCTYPE html><html><body><h1>Links for uv</h1>" + "".join(links) + "</body></html>"
            kind = "text/html; charset=utf-8"
        self.routes["/simple/uv/"] = (200, {"Content-Type": kind}, body.encode())


@pytest.fixture(autouse=True)
def hermetic(tmp_path, monkeypatch):
    """No proxy and no netrc of this machine's in the way of the requests to 127.0.0.1."""
    for variable in list(os.environ):
        if variable.lower().endswith("_proxy"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture
def pages(index, tls_files):
    """A second HTTPS server, trusted as ``index`` is (the fixture sets SSL_CERT_FILE)."""
    served = Pages(tls_files)
    yield served
    served.server.shutdown()


@pytest.fixture
def fakes(tmp_path):
    """uv wheels for this machine whose 'binary' is a line naming their version: an old, a yanked newer, a current one."""
    house = tmp_path / "fakes"
    return {version: build_wheel(house, "uv", version, scripts={"uv": f"#!uv {version}\n".encode()})
            for version in ("0.1.0", "9.0.0", "1.2.3")}


@pytest.fixture
def bin_dir(tmp_path):
    """The directory dest is written to, empty at the start."""
    path = tmp_path / "bin"
    path.mkdir()
    return path


def with_credentials(url: str, user: str = "analyst") -> str:
    return url.replace("https://", f"https://{user}:{SECRET}@", 1)


def basic(request: dict) -> str | None:
    """The user:password of a recorded request's Authorization: Basic header, else None."""
    value = request["headers"].get("Authorization")
    if value is None:
        return None
    scheme, _sep, token = value.partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(token).decode()


def temp_files(directory) -> list[str]:
    return [path.name for path in directory.iterdir() if path.name.startswith(".uv.")]


@pytest.mark.parametrize(("filename", "arch", "glibc", "expected"), [
    ("uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "x86_64", GLIBC, (0, 13, 9)),
    ("uv-0.13.9-py3-none-manylinux_2_28_aarch64.whl", "aarch64", GLIBC, (0, 13, 9)),
    ("uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "aarch64", GLIBC, None),
    ("uv-0.13.9-py3-none-manylinux_2_39_x86_64.whl", "x86_64", GLIBC, None),  # needs a newer glibc
    ("uv-0.13.9-py3-none-manylinux_2_28_x86_64.whl", "x86_64", (2, 28), (0, 13, 9)),  # exactly the glibc it needs
    ("uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "x86_64", (2, 12), None),
    ("uv-0.13.9-py3-none-manylinux2014_x86_64.whl", "x86_64", (2, 17), (0, 13, 9)),  # legacy tag: glibc 2.17
    ("uv-0.13.9-py3-none-manylinux2014_x86_64.whl", "x86_64", (2, 16), None),
    ("uv-0.1.0-py3-none-manylinux1_x86_64.whl", "x86_64", (2, 5), (0, 1, 0)),
    ("uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl", "x86_64", GLIBC, None),
    ("uv-0.13.9-py3-none-macosx_11_0_arm64.whl", "aarch64", GLIBC, None),
    ("uv-0.14.0a1-py3-none-manylinux_2_17_x86_64.whl", "x86_64", GLIBC, None),  # pre-release
    ("uv-0.14.0rc2-py3-none-manylinux_2_17_x86_64.whl", "x86_64", GLIBC, None),  # pre-release
    ("uv-0.13.9.tar.gz", "x86_64", GLIBC, None),
    ("uvx-0.13.9-py3-none-manylinux_2_17_x86_64.whl", "x86_64", GLIBC, None),
])
def test_supported_picks_stable_wheels_this_glibc_and_cpu_can_run(filename, arch, glibc, expected):
    """supported() gives the version of a stable wheel whose manylinux tag runs on the glibc and CPU, else None."""
    assert _uv.supported(filename, arch, glibc) == expected


def test_platform_tags_read_this_machine_and_need_glibc(monkeypatch):
    """platform_tags() is the CPU as wheel tags name it and glibc's (major, minor); no glibc is an error."""
    arch, glibc = _uv.platform_tags()
    assert arch == ARCH and len(glibc) == 2 and glibc >= (2, 17)
    monkeypatch.setattr(_uv.platform, "machine", lambda: "amd64")
    monkeypatch.setattr(_uv.os, "confstr", lambda name: "glibc 2.31.9")
    assert _uv.platform_tags() == ("x86_64", (2, 31))
    for libc in ("", "uClibc 1.0.45"):  # musl answers ""
        monkeypatch.setattr(_uv.os, "confstr", lambda name, libc=libc: libc)
        with pytest.raises(_uv.UvError, match="need glibc; set notebook_installer: pip"):
            _uv.platform_tags()


def test_pep503_links_carry_hash_and_yank_mark():
    """An HTML page's <a href="...#sha256=..."> gives file name and hash; data-yanked marks a yanked file."""
    parser = _uv.Links()
    parser.feed('<a href="../../files/uv-1.0.0-py3-none-manylinux_2_17_x86_64.whl#sha256=ab12">x</a>'
                '<A HREF="uv-0.9.0-py3-none-manylinux_2_17_x86_64.whl" data-yanked="">y</A><a>no href</a>'
                '<a href="uv-0.8.0-py3-none-manylinux_2_17_x86_64.whl#sha256=cd34" data-yanked>z</a>')
    first, second, third = parser.files
    assert first == {"url": "../../files/uv-1.0.0-py3-none-manylinux_2_17_x86_64.whl",
                     "filename": "uv-1.0.0-py3-none-manylinux_2_17_x86_64.whl", "hashes": {"sha256": "ab12"}, "yanked": False}
    assert second["yanked"] and second["hashes"] == {} and second["filename"] == "uv-0.9.0-py3-none-manylinux_2_17_x86_64.whl"
    assert third["yanked"] and third["hashes"] == {"sha256": "cd34"}


def test_choose_skips_yanked_and_takes_the_newest_or_the_pin():
    """choose(): the newest supported unyanked wheel, or exactly the pinned release; a yanked pin is not there."""
    def item(name, yanked=False):
        return {"filename": name, "url": name, "hashes": {}, "yanked": yanked, "source": "index"}
    files = [item(f"uv-0.1.0-py3-none-manylinux_2_17_{ARCH}.whl"), item(f"uv-0.10.0-py3-none-manylinux_2_17_{ARCH}.whl"),
             item(f"uv-9.0.0-py3-none-manylinux_2_17_{ARCH}.whl", yanked=True),
             item("uv-8.0.0-py3-none-manylinux_2_17_riscv99.whl"), item(f"uv-7.0.0-py3-none-manylinux_2_99_{ARCH}.whl")]
    assert _uv.choose(files, ARCH, GLIBC, "") == ((0, 10, 0), files[1])  # 0.10 > 0.1 as numbers, not text
    assert _uv.choose(files, ARCH, GLIBC, "0.1.0") == ((0, 1, 0), files[0])
    assert _uv.choose(files, ARCH, GLIBC, "9.0.0") is None
    assert _uv.choose([], ARCH, GLIBC, "") is None


def test_fetch_writes_the_real_uv_from_a_json_index(index, uv_wheel, bin_dir):
    """The real uv from a PEP 691 index: dest is executable and runs as that version; no temp file is left."""
    wheel, version = uv_wheel
    index.add(wheel)
    dest = bin_dir / "uv"
    result = _uv.fetch(str(dest), _index.Sources(index.url))
    assert result == {"version": version, "wheel": wheel.name, "source": "index"}
    assert os.stat(dest).st_mode & 0o777 == 0o755
    assert subprocess.run([str(dest), "--version"], capture_output=True, text=True, check=True).stdout.split()[1] == version
    assert [r["path"] for r in index.requests] == ["/simple/uv/", f"/files/{wheel.name}"]
    assert "application/vnd.pypi.simple.v1+json" in index.requests[0]["headers"]["Accept"]
    assert temp_files(bin_dir) == [] and os.listdir(bin_dir) == ["uv"]


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_newest_unyanked_wheel_from_either_index_format(pages, fakes, bin_dir, fmt):
    """PEP 691 JSON and PEP 503 HTML pages alike: the newest wheel not yanked is unpacked."""
    pages.publish(fakes.values(), fmt=fmt, yanked={fakes["9.0.0"].name})
    dest = bin_dir / "uv"
    result = _uv.fetch(str(dest), _index.Sources(pages.base + "/simple"))
    assert result["version"] == "1.2.3" and result["wheel"] == fakes["1.2.3"].name
    assert dest.read_bytes() == b"#!uv 1.2.3\n" and os.stat(dest).st_mode & 0o777 == 0o755
    assert [r["path"] for r in pages.requests] == ["/simple/uv/", f"/files/{fakes['1.2.3'].name}"]


def test_relative_links_resolve_against_the_page_after_a_redirect(pages, fakes, bin_dir):
    """PEP 503 relative hrefs (../../files/...) are taken relative to where a redirect led, not to the URL asked."""
    name = fakes["1.2.3"].name
    pages.publish([fakes["1.2.3"]], fmt="html", files_at="../..")
    pages.routes["/mirror/simple/uv/"] = pages.routes.pop("/simple/uv/")
    pages.routes[f"/mirror/files/{name}"] = pages.routes.pop(f"/files/{name}")
    pages.routes["/simple/uv/"] = (302, {"Location": "/mirror/simple/uv/"}, b"")
    assert _uv.fetch(str(bin_dir / "uv"), _index.Sources(pages.base + "/simple"))["version"] == "1.2.3"
    assert [r["path"] for r in pages.requests] == ["/simple/uv/", "/mirror/simple/uv/", f"/mirror/files/{name}"]


def test_pinned_version_takes_that_release_not_the_newest(index, fakes, bin_dir):
    """notebook_uv_version 0.1.0 gets exactly 0.1.0 although 1.2.3 is there."""
    for path in fakes.values():
        index.add(path, yanked=path is fakes["9.0.0"])
    result = _uv.fetch(str(bin_dir / "uv"), _index.Sources(index.url), "0.1.0")
    assert result["version"] == "0.1.0" and (bin_dir / "uv").read_bytes() == b"#!uv 0.1.0\n"


@pytest.mark.parametrize("version", ["2.0.0", "9.0.0"])  # not on the index; yanked
def test_pinned_version_the_index_lacks_names_the_variable_and_writes_nothing(index, fakes, bin_dir, version):
    """A pin the index lacks (or only has yanked) is an error naming the release and notebook_uv_version."""
    for path in fakes.values():
        index.add(path, yanked=path is fakes["9.0.0"])
    with pytest.raises(_uv.UvError) as exc:
        _uv.fetch(str(bin_dir / "uv"), _index.Sources(index.url), version)
    assert f"no uv {version} wheel for {ARCH}" in str(exc.value) and "notebook_uv_version" in str(exc.value)
    assert index.url in str(exc.value)
    assert list(bin_dir.iterdir()) == [] and [r["path"] for r in index.requests] == ["/simple/uv/"]


def test_sha256_mismatch_refuses_the_download_and_writes_nothing(pages, fakes, bin_dir):
    """A download whose sha256 differs from the index's is refused; dest is not written."""
    pages.publish([fakes["1.2.3"]], corrupt=True)
    with pytest.raises(_uv.UvError, match="sha256 of uv-1.2.3-.* does not match its index"):
        _uv.fetch(str(bin_dir / "uv"), _index.Sources(pages.base + "/simple"))
    assert list(bin_dir.iterdir()) == []


@pytest.mark.parametrize("where", ["json index", "html index", "find-links page"])
def test_a_file_without_sha256_is_refused_and_not_downloaded(pages, fakes, bin_dir, where):
    """No sha256 from an index (or a find-links URL): "comes with no sha256", nothing downloaded, nothing written."""
    pages.publish([fakes["1.2.3"]], fmt="html" if where == "html index" else "json", hashes=False)
    if where == "find-links page":
        sources = _index.Sources(pages.base + "/simple", ["--no-index", "--find-links", pages.base + "/simple/uv/"])
    else:
        sources = _index.Sources(pages.base + "/simple")
    with pytest.raises(_uv.UvError, match="comes with no sha256"):
        _uv.fetch(str(bin_dir / "uv"), sources)
    assert list(bin_dir.iterdir()) == [] and [r["path"] for r in pages.requests] == ["/simple/uv/"]


def test_an_index_without_hashes_is_refused(index, uv_wheel, bin_dir):
    """The same on the PEP 691 index helper with hashes switched off."""
    index.add(uv_wheel[0])
    index.hashes = False
    with pytest.raises(_uv.UvError, match="comes with no sha256"):
        _uv.fetch(str(bin_dir / "uv"), _index.Sources(index.url))
    assert list(bin_dir.iterdir()) == []


@pytest.mark.parametrize("where", ["index", "extra index", "find-links"])
def test_plain_http_is_refused_before_any_request(index, uv_wheel, bin_dir, where):
    """An http:// index or find-links URL: refused asking for https://, credentials hidden, no request made."""
    index.add(uv_wheel[0])
    plain = with_credentials(index.url).replace("https://", "http://")
    words = {"index": [], "extra index": ["--extra-index-url", plain], "find-links": ["--find-links", plain + "/uv/"]}[where]
    sources = _index.Sources(plain if where == "index" else index.url, words)
    with pytest.raises(_index.IndexError_) as exc:
        _uv.fetch(str(bin_dir / "uv"), sources)
    assert "must be an https:// URL" in str(exc.value) and "http://***@127.0.0.1:" in str(exc.value)
    assert SECRET not in str(exc.value) and "analyst" not in str(exc.value)
    assert index.requests == [] and list(bin_dir.iterdir()) == []


def test_credentials_go_as_a_basic_header_never_in_a_path(index, uv_wheel, bin_dir):
    """user:token@ in the index URL is sent as Authorization: Basic to the page and the file, not in any path."""
    index.add(uv_wheel[0])
    result = _uv.fetch(str(bin_dir / "uv"), _index.Sources(with_credentials(index.url)))
    assert [r["path"] for r in index.requests] == ["/simple/uv/", f"/files/{uv_wheel[0].name}"]
    assert [basic(r) for r in index.requests] == [f"analyst:{SECRET}"] * 2
    assert all(SECRET not in r["path"] and "analyst" not in r["path"] for r in index.requests)
    assert SECRET not in json.dumps(result)


def test_the_token_is_not_in_the_error_of_a_failed_page(index, bin_dir):
    """The index down (503): the error names the index redacted, never the token."""
    index.down = True
    with pytest.raises(_uv.UvError) as exc:
        _uv.fetch(str(bin_dir / "uv"), _index.Sources(with_credentials(index.url)))
    assert "could not fetch https://***@127.0.0.1:" in str(exc.value) and "503" in str(exc.value)
    assert SECRET not in str(exc.value) and "analyst" not in str(exc.value)
    assert basic(index.requests[0]) == f"analyst:{SECRET}" and list(bin_dir.iterdir()) == []


def test_the_token_is_not_in_the_error_of_a_failed_download(pages, fakes, bin_dir):
    """A listed file that is not there (404): the error shows its URL, the credentials added to it redacted."""
    pages.publish([fakes["1.2.3"]])
    del pages.routes[f"/files/{fakes['1.2.3'].name}"]
    with pytest.raises(_uv.UvError) as exc:
        _uv.fetch(str(bin_dir / "uv"), _index.Sources(with_credentials(pages.base + "/simple")))
    message = str(exc.value)
    assert f"could not fetch https://***@127.0.0.1:{pages.server.server_address[1]}/files/{fakes['1.2.3'].name}" in message
    assert "404" in message and SECRET not in message and "analyst" not in message
    assert [basic(r) for r in pages.requests] == [f"analyst:{SECRET}"] * 2
    assert list(bin_dir.iterdir()) == []


def test_netrc_credentials_for_an_index_without_them(index, uv_wheel, bin_dir, tmp_path, monkeypatch):
    """An index URL without credentials: the netrc entry of its host (NETRC) authenticates page and file."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login analyst password {SECRET}\n")
    monkeypatch.setenv("NETRC", str(netrc))
    index.add(uv_wheel[0])
    _uv.fetch(str(bin_dir / "uv"), _index.Sources(index.url))
    assert [basic(r) for r in index.requests] == [f"analyst:{SECRET}"] * 2


def test_credentials_go_only_to_files_on_the_index_host(pages, index, uv_wheel, bin_dir):
    """A page listing its file on another host (as PyPI does): that host gets no credentials."""
    pages.publish([uv_wheel[0]], files_at=index.url.rsplit("/simple", 1)[0])
    index.add(uv_wheel[0])
    result = _uv.fetch(str(bin_dir / "uv"), _index.Sources(with_credentials(pages.base + "/simple")))
    assert result["version"] == uv_wheel[1]
    assert [basic(r) for r in pages.requests] == [f"analyst:{SECRET}"]
    assert [r["path"] for r in index.requests] == [f"/files/{uv_wheel[0].name}"]
    assert "Authorization" not in index.requests[0]["headers"]


def test_credentials_do_not_follow_a_redirect_to_another_host(pages, index, fakes, bin_dir):
    """An index whose file download redirects to another host (object storage, a CDN): that host gets no credentials."""
    name = fakes["1.2.3"].name
    pages.publish([fakes["1.2.3"]])
    pages.routes[f"/files/{name}"] = (302, {"Location": index.url.rsplit("/simple", 1)[0] + f"/files/{name}"}, b"")
    index.add(fakes["1.2.3"])
    assert _uv.fetch(str(bin_dir / "uv"), _index.Sources(with_credentials(pages.base + "/simple")))["version"] == "1.2.3"
    assert [r["path"] for r in index.requests] == [f"/files/{name}"]
    assert "Authorization" not in index.requests[0]["headers"]


def test_credentials_are_not_added_to_a_plain_http_file_on_the_index_host(pages, fakes):
    """A file listed as http:// on the index's own host and port is not given the index's credentials."""
    pages.publish([fakes["1.2.3"]], files_at=pages.base.replace("https://", "http://"))
    index = with_credentials(pages.base + "/simple")
    files = _uv.page_files(pages.base + "/simple/uv/", index)
    assert files[0]["url"].startswith("http://")
    assert _index.split_credentials(files[0]["url"])[1] is None and _index.authorization(files[0]["url"]) == {}


def test_no_index_and_a_find_links_directory_ask_no_index(index, uv_wheel, tmp_path, bin_dir):
    """--no-index --find-links DIR: the real uv from a wheel in DIR taken without a hash; no request at all."""
    house = tmp_path / "wheels"
    house.mkdir()
    (house / uv_wheel[0].name).write_bytes(uv_wheel[0].read_bytes())
    index.add(uv_wheel[0])
    dest = bin_dir / "uv"
    result = _uv.fetch(str(dest), _index.Sources(index.url, ["--no-index", "--find-links", str(house)]))
    assert result == {"version": uv_wheel[1], "wheel": uv_wheel[0].name, "source": "directory"}
    assert subprocess.run([str(dest), "--version"], capture_output=True, text=True, check=True).stdout.split()[1] == uv_wheel[1]
    assert index.requests == [] and temp_files(bin_dir) == []


def test_no_index_with_no_wheel_in_the_directory_is_an_error_without_asking(index, uv_wheel, tmp_path, bin_dir):
    """--no-index and a find-links directory without a uv wheel: an error naming where it looked; the index is not asked."""
    house = tmp_path / "wheels"
    build_wheel(house, "nbprobe", "1.0")
    index.add(uv_wheel[0])
    with pytest.raises(_uv.UvError) as exc:
        _uv.fetch(str(bin_dir / "uv"), _index.Sources(index.url, ["--no-index", "--find-links", str(house)]))
    assert f"no uv wheel for {ARCH}" in str(exc.value) and str(house) in str(exc.value)
    assert "notebook_uv_version" in str(exc.value)
    assert index.requests == [] and list(bin_dir.iterdir()) == []


def test_fetch_replaces_dest_by_rename(index, fakes, bin_dir):
    """An existing dest is replaced by a new file renamed over it, not rewritten in place: a link to the old one keeps it."""
    index.add(fakes["1.2.3"])
    dest = bin_dir / "uv"
    dest.write_bytes(b"#!old uv\n")
    os.link(dest, bin_dir.parent / "old-uv")
    _uv.fetch(str(dest), _index.Sources(index.url))
    assert dest.read_bytes() == b"#!uv 1.2.3\n" and (bin_dir.parent / "old-uv").read_bytes() == b"#!old uv\n"
    assert sorted(os.listdir(bin_dir)) == ["uv"]


class HalfWritten:
    """A file that takes half of what is written to it, then gets a Ctrl-C."""

    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def write(self, data):
        self.fh.write(data[:len(data) // 2])
        self.fh.flush()
        raise KeyboardInterrupt


@pytest.mark.parametrize("broken", ["replace", "chmod", "write"])
def test_a_failed_write_leaves_the_old_binary_and_no_temp_file(index, fakes, bin_dir, monkeypatch, broken):
    """The rename failing, the chmod failing or a Ctrl-C halfway through the write: dest keeps the old binary and no
    .uv.* file stays."""
    index.add(fakes["1.2.3"])
    dest = bin_dir / "uv"
    dest.write_bytes(b"#!old uv\n")

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")
    if broken == "write":
        fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWritten(fdopen(fd, mode)))
    else:
        monkeypatch.setattr(os, broken, no_space)
    with pytest.raises(KeyboardInterrupt if broken == "write" else OSError):
        _uv.fetch(str(dest), _index.Sources(index.url))
    assert dest.read_bytes() == b"#!old uv\n"
    assert temp_files(bin_dir) == [] and os.listdir(bin_dir) == ["uv"]
