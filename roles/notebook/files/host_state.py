"""Read, in one call and without changing anything, all the host state the role decides on:
OS packages, the venv's requirements, the service user, owners and modes of the role's paths,
checksums of the files it renders, the TLS certificate, the password hash already deployed,
leftover config and the service.
Run by the host's python3 with a JSON request on stdin; prints one JSON answer."""
import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)


def packages(names):
    proc = run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n"] + names)
    return sorted(line.split()[0] for line in proc.stdout.splitlines() if line.endswith(" installed"))


def venv(path, probe, requirements):
    python = os.path.join(path, "bin", "python")
    state = {"exists": os.path.exists(python), "uv": os.access(os.path.join(path, "bin", "uv"), os.X_OK)}
    if state["exists"]:
        proc = run([python, "-c", probe] + requirements)
        if proc.returncode == 0:
            state.update(json.loads(proc.stdout))
    return state


def account(user, group, home, shell):
    """Whether the user and group need the user/group modules at all."""
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        return {"group_ok": False, "user_ok": False}
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return {"group_ok": True, "user_ok": False}
    return {"group_ok": True, "user_ok": (entry.pw_gid, entry.pw_dir, entry.pw_shell) == (gid, home, shell)}


def path_differs(spec):
    try:
        st = os.lstat(spec["path"])
        owner, group = pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    except (OSError, KeyError):
        return True
    kind = stat.S_ISDIR if spec["state"] == "directory" else stat.S_ISREG
    return not kind(st.st_mode) or (owner, group, stat.S_IMODE(st.st_mode)) != (
        spec["owner"], spec["group"], int(spec["mode"], 8))


def rendered(spec):
    """sha1 of a file the role renders, or None when it is missing or its owner or mode is off:
    the template task runs only when the controller's rendering has another sha1."""
    if path_differs({**spec, "state": "file"}):
        return None
    digest = hashlib.sha1()
    with open(spec["path"], "rb") as fh:
        digest.update(fh.read())
    return digest.hexdigest()


def openssl(*args):
    return run(["openssl", *args]).stdout


def certificate(cert, key, renew_seconds):
    """Is there a certificate, does its key match, does it expire soon, which key and names?"""
    if not (os.path.isfile(cert) and os.path.getsize(cert) and os.path.isfile(key) and os.path.getsize(key)):
        return {"state": "missing"}
    if shutil.which("openssl") is None:
        return {"state": "unreadable"}
    pubkey = openssl("x509", "-in", cert, "-noout", "-pubkey")
    if not pubkey or pubkey != openssl("pkey", "-in", key, "-pubout"):
        return {"state": "mismatch"}
    expiring = run(["openssl", "x509", "-in", cert, "-noout", "-checkend", str(renew_seconds)]).returncode != 0
    keytext = openssl("pkey", "-in", key, "-noout", "-text")
    bits = re.search(r"\((\d+) bit", keytext)
    san = [line.strip() for line in openssl("x509", "-in", cert, "-noout", "-ext", "subjectAltName").splitlines()[1:]]
    return {
        "state": "expiring" if expiring else "valid",
        "keytype": "ecdsa" if "ASN1 OID: prime256v1" in keytext else "rsa",
        "keybits": int(bits.group(1)) if bits else 0,
        "fingerprint": openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha256").strip().partition("=")[2],
        "san": ", ".join(line for line in san if line),
    }


def deployed_hashes(path):
    """The password hashes in a JSON config file of either Notebook version."""
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, ValueError):
        return []
    found = []
    for section, trait in (("PasswordIdentityProvider", "hashed_password"), ("NotebookApp", "password")):
        value = config.get(section) if isinstance(config, dict) else None
        value = value.get(trait) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            found.append(value)
    return found


def service(name):
    proc = run(["systemctl", "show", "--property=ActiveState,UnitFileState", name + ".service"])
    props = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return {"active": props.get("ActiveState") == "active", "enabled": props.get("UnitFileState") == "enabled"}


def main():
    request = json.load(sys.stdin)
    answer = {
        "packages": packages(request["packages"]),
        "venv": venv(request["venv"], request["requirements_probe"], request["requirements"]),
        "paths_to_fix": [spec["path"] for spec in request["paths"] if path_differs(spec)],
        "rendered": {spec["path"]: rendered(spec) for spec in request["rendered"]},
        "hashes": {path: deployed_hashes(path) for path in request["configs"]},
        "config_files": [path for path in request["config_files"] if os.path.lexists(path)],
        "service": service(request["service"]),
    }
    answer.update(account(**request["account"]))
    if request.get("tls"):
        answer["tls"] = certificate(**request["tls"])
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
