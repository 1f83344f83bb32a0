# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the build context `ansible-builder create` made for the execution environment.

Usage: ee_check.py CONTEXT   (run with the builder venv's Python: it needs bindep and packaging)

What a broken context or a forgotten requirement looks like, each a failure here:
- no Containerfile, another base image or package manager than the definition names;
- the collection tarball missing from _build, or not the one galaxy.yml describes, or without
  meta/execution-environment.yml, requirements.txt and bindep.txt, or with test and build files;
- what ansible-builder's own introspect.py (the copy in the context, as the build runs it) finds in
  the installed collection lacks a Python distribution the plugins import, or openssl, which the
  modules that run on the controller drive;
- bindep.txt names no package for Debian (dpkg) or RHEL (rpm), or none to compile with;
- requirements.txt allows no version CI tests (those in the test venv, from requirements/controller.txt).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml
from bindep.depends import Depends
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
TARBALL = "collections/nbops-jupyter.tar.gz"
# Distribution that provides each third-party module the plugins import, and what it needs beside.
DISTRIBUTIONS = {
    "passlib": ["libpass", "argon2-cffi"],  # argon2-cffi: passlib's argon2 backend
    "cryptography": ["cryptography"],
}
# Importable wherever ansible-core is (it depends on them), or part of it. (module_utils/_venv.py
# imports packaging on the managed host, the host's or the venv's copy.)
WITH_ANSIBLE = {"ansible", "ansible_collections", "jinja2", "yaml", "packaging", "__future__"}
# In the tarball Galaxy gets, and never there.
SHIPPED = ("meta/execution-environment.yml", "meta/runtime.yml", "requirements.txt", "bindep.txt")
NOT_SHIPPED = re.compile(r"^(tests|molecule|execution-environment|requirements|\.build|\.venv[^/]*|\.ci)/|^Makefile$")
# bindep profiles of the two families, as bindep reports them on each.
PLATFORMS = {
    "Debian": ["default", "platform:dpkg", "platform:debian"],
    "RHEL": ["default", "platform:rpm", "platform:redhat", "platform:rhel"],
}

failures: list[str] = []


def check(ok: bool, what: str, why: str = "") -> None:
    print(("ok    " if ok else "FAIL  ") + what + ("" if ok else f": {why}"))
    if not ok:
        failures.append(what)


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line.split("#", 1)[0].strip()).name) for line in requirements}


def third_party_imports(collection: Path) -> dict[str, set[str]]:
    """Top-level modules imported by the plugins that neither Python nor ansible-core provide."""
    found: dict[str, set[str]] = {}
    for source in sorted((collection / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in WITH_ANSIBLE:
                    found.setdefault(top, set()).add(str(source.relative_to(collection)))
    return found


def tested_version(venv_python: Path, distribution: str) -> str | None:
    """The version the test venv (built from requirements/controller.txt) has, which CI tests."""
    run = subprocess.run([str(venv_python), "-c", "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))",
                          distribution], capture_output=True, text=True, check=False)
    return run.stdout.strip() if run.returncode == 0 else None


def main(context: Path) -> int:
    definition = yaml.safe_load((ROOT / "execution-environment/execution-environment.yml").read_text())
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    build = context / "_build"

    containerfile = context / "Containerfile"
    check(containerfile.is_file(), "Containerfile in the context", f"no {containerfile}")
    text = containerfile.read_text() if containerfile.is_file() else ""
    base = definition["images"]["base_image"]["name"]
    check(f'ARG EE_BASE_IMAGE="{base}"' in text, f"Containerfile starts from {base}", "another base image")
    manager = definition["options"]["package_manager_path"]
    check(f'ARG PKGMGR="{manager}"' in text, f"Containerfile installs with {manager}", "another package manager")
    for step in ("ansible-galaxy collection install", "introspect.py introspect", "scripts/assemble",
                 "scripts/install-from-bindep", "scripts/check_ansible"):
        check(step in text, f"Containerfile runs {step}", "step missing")

    wanted = yaml.safe_load((build / "requirements.yml").read_text()) if (build / "requirements.yml").is_file() else {}
    check({"name": TARBALL, "type": "file"} in (wanted or {}).get("collections", []),
          "_build/requirements.yml installs the collection from its tarball", f"got {wanted!r}")
    tarball = build / TARBALL
    check(tarball.is_file(), f"_build/{TARBALL} in the context", "missing")
    for name in ("scripts/introspect.py", "pip/pip.conf"):
        check((build / name).is_file(), f"_build/{name} in the context", "missing")
    if not tarball.is_file():
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        collection = Path(tmp, "ansible_collections", galaxy["namespace"], galaxy["name"])
        collection.mkdir(parents=True)
        with tarfile.open(tarball) as archive:
            members = archive.getnames()
            archive.extractall(collection, filter="data")
        info = json.loads((collection / "MANIFEST.json").read_text())["collection_info"]
        check((info["namespace"], info["name"], info["version"]) == (galaxy["namespace"], galaxy["name"], galaxy["version"]),
              f"tarball is {galaxy['namespace']}.{galaxy['name']} {galaxy['version']}", f"it is {info}")
        for path in SHIPPED:
            check(path in members, f"tarball ships {path}", "missing")
        stray = sorted(m for m in members if NOT_SHIPPED.search(m.removeprefix("./")))
        check(not stray, "tarball ships no test or build files", ", ".join(stray[:5]))

        # The builder's own introspection, as the image build runs it on the installed collection.
        run = subprocess.run([sys.executable, str(build / "scripts/introspect.py"), "introspect", tmp],
                             capture_output=True, text=True, check=False)
        check(run.returncode == 0, "introspect.py reads the installed collection", run.stderr.strip()[-300:])
        found = yaml.safe_load(run.stdout.split("---", 1)[-1]) or {}
        python, system = found.get("python") or [], found.get("system") or []
        print(f"      introspected python: {sorted(names(python))}")
        print(f"      introspected system: {[line.split('#', 1)[0].strip() for line in system]}")

        imported = third_party_imports(collection)
        for module, sources in sorted(imported.items()):
            if module not in DISTRIBUTIONS:
                check(False, f"plugins import {module}", f"({', '.join(sorted(sources))}) add its distribution to "
                      "requirements.txt and to DISTRIBUTIONS in tests/tools/ee_check.py")
                continue
            missing = sorted(set(map(canonicalize_name, DISTRIBUTIONS[module])) - names(python))
            check(not missing, f"introspected requirements provide {module} ({', '.join(DISTRIBUTIONS[module])})",
                  f"missing {missing}: add to requirements.txt")

        drives_openssl = any(re.search(r'\["openssl"', p.read_text()) for p in (collection / "plugins").rglob("*.py"))
        system_names = {re.split(r"\s|\[", line.strip(), maxsplit=1)[0] for line in system}
        check(not drives_openssl or "openssl" in system_names,
              "introspected system packages include openssl (the CA modules run it on the controller)",
              "add openssl to bindep.txt")

        # The shipped bindep.txt, as bindep reads it on each family.
        rules = Depends((collection / "bindep.txt").read_text())
        for family, profiles in PLATFORMS.items():
            runtime = [rule[0] for rule in rules.active_rules(profiles)]
            compile_ = [rule[0] for rule in rules.active_rules(profiles + ["compile"])]
            check("openssl" in runtime, f"bindep.txt gives {family} openssl", f"got {runtime}")
            check(len(compile_) > len(runtime) and "gcc" in compile_,
                  f"bindep.txt gives {family} a compiler and headers (compile profile)", f"got {compile_}")

    venv_python = ROOT / ".venv/bin/python"
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        version = tested_version(venv_python, req.name)
        check(version is not None and req.specifier.contains(version, prereleases=True),
              f"requirements.txt's {req} allows the tested {req.name} {version}",
              f"{venv_python} has none or one outside the range")
    core = definition["dependencies"]["ansible_core"]["package_pip"]
    check(core.removeprefix("ansible-core==") == tested_version(venv_python, "ansible-core"),
          f"the definition's {core} is the ansible-core CI tests", "requirements/controller.txt pins another")

    print(f"ee_check: {len(failures)} failed" if failures else "ee_check: the build context is complete")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
