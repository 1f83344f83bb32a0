"""Make the venv, fetch uv, install the packages and print what the venv holds afterwards, as one
job that install.yml starts in the background and installed.yml waits for: four steps that would
otherwise each cost a remote call, one of them before the install could even start.

argv[1] is a JSON request: venv, venv_argv (how to make it), uv (null, or the argv that fetches
uv into the venv), uv_version (empty: any uv will do), marker, lock, install (installer argv)
and probe (argv that prints the venv's state as JSON). The installer's own output passes
through, then the probe's JSON is the last line of stdout. Exits with the first failing step's
code."""
import fcntl
import json
import os
import subprocess
import sys


def run(argv):
    sys.stdout.flush()
    code = subprocess.call(argv)
    if code:
        sys.exit(code)


def uv_wanted(venv, version):
    """True when the venv has no uv, or (with a version asked for) a uv of another version."""
    uv = os.path.join(venv, "bin", "uv")
    if not os.path.exists(uv):
        return True
    if not version:
        return False
    said = subprocess.run([uv, "--version"], stdout=subprocess.PIPE, text=True, check=False).stdout.split()
    return said[1:2] != [version]


def main():
    request = json.loads(sys.argv[1])
    venv = request["venv"]
    # A run killed mid-install leaves the installer going here; the next run waits for it.
    with open(request["lock"], "a", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # pip's venv is whole only once ensurepip put bin/pip there; uv's needs only bin/python.
        if not os.path.exists(os.path.join(venv, "bin", "python" if request["uv"] else "pip")):
            run(request["venv_argv"])
        if request["uv"] and uv_wanted(venv, request["uv_version"]):
            run(request["uv"])
        # The marker goes before the installer starts and comes back only when it succeeded: a
        # run killed in between leaves no marker, and the next run reinstalls everything.
        if os.path.exists(request["marker"]):
            os.unlink(request["marker"])
        run(request["install"])
        with open(request["marker"], "w", encoding="ascii"):
            pass
        state = subprocess.run(request["probe"], check=True, stdout=subprocess.PIPE, text=True).stdout
    print(state.strip())


if __name__ == "__main__":
    main()
