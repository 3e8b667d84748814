"""Champion itself, for an image: its package source and pinned runtime requirements.

Building a wheel needs the build backend, which may not be installed (or reachable) here,
so the context gets the package source plus a minimal `pyproject.toml`; `pip install` builds
it inside the image. Requirements are pinned to the versions installed here, the versions
this project was built and tested with.
"""

from __future__ import annotations

import shutil
import tomllib
from importlib import metadata
from pathlib import Path

import champion

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


def package_dir() -> Path:
    """The installed `champion` package folder."""
    return Path(champion.__file__).resolve().parent


def declared_requirements() -> list[str]:
    """Runtime requirements of champion: from its `pyproject.toml` when running from a source
    checkout (the freshest), else from the installed distribution's metadata."""
    pyproject = package_dir().parents[1] / "pyproject.toml"
    if pyproject.is_file():
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        project = document.get("project", {})
        if project.get("name") == "champion":
            return [str(r) for r in project.get("dependencies", [])]
    requires = metadata.requires("champion") or []
    return [r for r in requires if "extra ==" not in r.replace('"', "'").replace("  ", " ")]


def pinned_requirements(requirements: list[str] | None = None) -> list[str]:
    """`name==installed version` (keeping environment markers) for each requirement; the
    declared range is kept for one that is not installed here."""
    from packaging.requirements import Requirement

    pinned = []
    for line in declared_requirements() if requirements is None else requirements:
        requirement = Requirement(line)
        marker = f"; {requirement.marker}" if requirement.marker else ""
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            pinned.append(line)
            continue
        pinned.append(f"{requirement.name}{extras}=={version}{marker}")
    return pinned


PACKAGE_DATA = ("templates/**/*", "py.typed", "state/migrations/*.py", "state/migrations/versions/*.py",
                "ui/static/*")
"""The package's files that are not modules (as in champion's own pyproject.toml): the
state's migrations among them, without which an installed copy cannot open a database."""


def write_source(target: Path, requirements: list[str]) -> None:
    """`target/src/champion` (the package) and `target/pyproject.toml` (installable with pip)."""
    shutil.copytree(package_dir(), target / "src" / "champion", ignore=_IGNORE)
    dependencies = "".join(f"    {_toml_string(r)},\n" for r in requirements)
    (target / "pyproject.toml").write_text(
        "# Minimal metadata to `pip install` champion from this copy of its source.\n"
        "[build-system]\n"
        'requires = ["setuptools>=69", "wheel"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        'name = "champion"\n'
        f"version = {_toml_string(champion.__version__)}\n"
        'requires-python = ">=3.11"\n'
        f"dependencies = [\n{dependencies}]\n\n"
        "[project.scripts]\n"
        'champion = "champion.cli.app:main"\n\n'
        "[tool.setuptools.packages.find]\n"
        'where = ["src"]\n\n'
        "[tool.setuptools.package-data]\n"
        f"champion = [{', '.join(_toml_string(g) for g in PACKAGE_DATA)}]\n",
        encoding="utf-8",
    )


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
