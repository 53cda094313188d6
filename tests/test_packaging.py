"""Every package folder is listed in pyproject.toml, so `pip install .` ships all of Ember."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]  # the checkout: the repository root is the ember package
SKIP = {"tests", "build", ".git"}


def test_every_package_folder_is_installed():
    pyproject = ROOT / "pyproject.toml"
    listed = set(tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["packages"])
    found = {"ember"}
    for init in ROOT.rglob("__init__.py"):
        parts = init.parent.relative_to(ROOT).parts
        if parts and not SKIP.intersection(parts) and not any(p.startswith(".") for p in parts):
            found.add(".".join(("ember", *parts)))
    assert found <= listed, f"missing from pyproject.toml packages: {sorted(found - listed)}"


def test_the_version_is_the_one_pyproject_declares():
    import ember

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == ember.__version__
