"""Put the uv binary at argv[2], taken from the uv wheel for this machine on the package index at
argv[1] (a PEP 503/691 simple index such as https://pypi.org/simple): the release argv[3] names
exactly, or the newest stable one when argv[3] is missing or empty.

Needs neither pip nor ensurepip (Debian's python3-venv), so a uv host skips apt and ensurepip
altogether. The wheel's sha256 from the index is checked before anything is written. Trust and
proxies are the system's: the CA store and https_proxy, as for uv itself."""
import hashlib
import html.parser
import io
import json
import os
import platform
import re
import sys
import tempfile
import urllib.parse
import urllib.request
import zipfile

# Oldest glibc each legacy manylinux tag promises to run on.
LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
ARCH = {"amd64": "x86_64", "arm64": "aarch64"}


class Links(html.parser.HTMLParser):
    """PEP 503: one <a href="...#sha256=..."> per file; data-yanked marks a yanked one."""

    def __init__(self):
        super().__init__()
        self.files = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            url, dummy, fragment = attrs["href"].partition("#")
            hashes = dict([fragment.split("=", 1)]) if "=" in fragment else {}
            self.files.append({"url": url, "filename": url.rsplit("/", 1)[-1], "hashes": hashes,
                               "yanked": "data-yanked" in attrs})


def index_files(index):
    page = index.rstrip("/") + "/uv/"
    request = urllib.request.Request(page, headers={
        "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1", "User-Agent": "nbops.jupyter"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read().decode("utf-8")
        page = response.geturl()
        is_json = "json" in response.headers.get("Content-Type", "")
    if is_json:
        files = json.loads(body)["files"]
    else:
        parser = Links()
        parser.feed(body)
        files = parser.files
    for item in files:
        item["url"] = urllib.parse.urljoin(page, item["url"])
    return files


def supported(filename, arch, glibc):
    """A stable uv wheel whose manylinux tag runs on this glibc and architecture."""
    match = re.fullmatch(r"uv-(\d+(?:\.\d+)*)-py3-none-([\w.]+)\.whl", filename)
    if not match:
        return None
    for tag in match.group(2).split("."):
        legacy = re.fullmatch(r"(manylinux\d+)_" + arch, tag)
        modern = re.fullmatch(r"manylinux_(\d+)_(\d+)_" + arch, tag)
        needs = LEGACY.get(legacy.group(1)) if legacy else (int(modern.group(1)), int(modern.group(2))) if modern else None
        if needs and needs <= glibc:
            return tuple(int(part) for part in match.group(1).split("."))
    return None


def main():
    index, dest = sys.argv[1], sys.argv[2]
    wanted = sys.argv[3] if len(sys.argv) > 3 else ""
    machine = platform.machine()
    arch = ARCH.get(machine, machine)
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    if not libc.startswith("glibc "):
        sys.exit("fetch_uv: uv wheels need glibc; set notebook_installer: pip on this host")
    glibc = tuple(int(part) for part in libc.split()[1].split(".")[:2])

    candidates = [(supported(f["filename"], arch, glibc), f) for f in index_files(index) if not f.get("yanked")]
    candidates = [(version, f) for version, f in candidates
                  if version and (not wanted or version == tuple(int(part) for part in wanted.split(".")))]
    if not candidates:
        release = f"uv {wanted}" if wanted else "uv"
        sys.exit(f"fetch_uv: {index} has no {release} wheel for {arch} with glibc {libc.split()[1]}; "
                 "set notebook_uv_version to a release the index has, or notebook_installer: pip on this host")
    version, wheel = max(candidates, key=lambda pair: pair[0])

    with urllib.request.urlopen(wheel["url"], timeout=300) as response:
        data = response.read()
    expected = wheel.get("hashes", {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        sys.exit(f"fetch_uv: sha256 of {wheel['filename']} does not match the index")

    dotted = ".".join(map(str, version))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        binary = archive.read(f"uv-{dotted}.data/scripts/uv")
    # Written beside the destination and renamed: a cut-off run leaves no half binary.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".uv.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(binary)
    os.chmod(tmp, 0o755)
    os.replace(tmp, dest)
    print(json.dumps({"version": dotted, "wheel": wheel["filename"]}))


if __name__ == "__main__":
    main()
