"""pyproject.toml and requirements/ list the same packages, and the pins are versions pyproject.toml allows."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.processes import ROOT

PULLED_IN = "# Pulled in by the above."


def _key(requirement: Requirement) -> tuple[str, frozenset[str]]:
    return canonicalize_name(requirement.name), frozenset(requirement.extras)


def pyproject(extra: str | None) -> dict:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {_key(r): r for r in map(Requirement, listed)}


def direct_pins(name: str) -> dict:
    """The packages a requirements file lists before its pulled-in section."""
    text = (ROOT / "requirements" / name).read_text()
    assert PULLED_IN in text, f"requirements/{name} has no {PULLED_IN!r} line"
    lines = text.split(PULLED_IN)[0].splitlines()
    return {_key(r): r for r in (Requirement(line) for line in lines if line and not line.startswith(("#", "-r")))}


@pytest.mark.parametrize(("extra", "file"), [(None, "base.txt"), ("dev", "dev.txt")])
def test_it_lists_the_same_packages_in_pyproject_and_requirements(extra, file):
    listed, pinned = pyproject(extra), direct_pins(file)
    assert sorted(set(pinned) - set(listed)) == [], f"in requirements/{file}, not in pyproject.toml"
    assert sorted(set(listed) - set(pinned)) == [], f"in pyproject.toml, not in requirements/{file}"
    for key, requirement in listed.items():
        (pin,) = pinned[key].specifier
        assert pin.operator == "==", f"requirements/{file} does not pin {pinned[key]}"
        assert requirement.specifier.contains(pin.version), f"{pinned[key]} is outside pyproject's {requirement}"
