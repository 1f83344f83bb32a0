"""Print as JSON whether the last install into this venv finished, and for each requirement
given as an argument the installed version and whether it satisfies the requirement.
Run by the venv's python: no network, no pip resolver."""
import json
import os
import sys
from importlib import metadata

try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement

state = {}
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        version = None
    state[spec] = {
        "name": req.name,
        "version": version,
        "satisfied": version is not None and req.specifier.contains(version, prereleases=True),
    }
# The role writes this marker after pip succeeded and removes it before pip starts: without it
# the venv may hold a half-installed package whose metadata looks fine.
complete = os.path.exists(os.path.join(sys.prefix, ".nbops-install-complete"))
print(json.dumps({"complete": complete, "requirements": state}))
