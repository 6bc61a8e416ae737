"""The two ways to install the course (pip via pyproject.toml, conda via
environment.yml) must ask for the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _name(requirement: str) -> str:
    """'scikit-learn>=1.4' -> 'scikit-learn' (lower case, '_' -> '-')."""
    name = re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        names |= {_name(r) for r in extra}
    return names


def _conda_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name = _name(dep)
            names.add(CONDA_TO_PYPI.get(name, name))
    return names - NOT_PACKAGES


def test_pyproject_and_environment_list_the_same_packages():
    pip_names, conda_names = _pyproject_names(), _conda_names()
    assert pip_names - conda_names == set(), "in pyproject.toml but not environment.yml"
    assert conda_names - pip_names == set(), "in environment.yml but not pyproject.toml"


def test_runtime_dependencies_named_by_the_course_are_present():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    expected = {"numpy", "scipy", "matplotlib", "scikit-learn", "scikit-image", "torch",
                "ipywidgets", "ipympl", "jupyterlab"}
    assert expected <= runtime
    assert "tqdm" not in runtime  # nothing of ours imports it (lime, a dev extra, pulls it in)
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "ruff", "lime", "shap", "captum"} <= dev
