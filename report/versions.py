"""Versions of Python and of the packages a run used, for its output files."""

import platform
from importlib import metadata

#: Packages every flowphase output records.
PACKAGES = ("flowphase", "numpy", "scipy", "sympy", "mpmath", "numba", "matplotlib", "tqdm")


def package_versions(packages=PACKAGES) -> dict:
    """Return ``{"python": ..., name: version}``, with "not installed" for a missing one."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
