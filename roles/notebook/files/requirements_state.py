"""Print as JSON, for each requirement given as an argument, the installed version and whether
it satisfies the requirement. Run by the venv's python, so no network and no pip resolver."""
import json
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
print(json.dumps(state))
