"""A fresh install is reproducible: constraints.txt pins every requirement to a version that
pyproject.toml allows, the README's commands and CI install with it, and the web app's test
client runs on the transport its Starlette version asks for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TESTS = '-c constraints.txt -e ".[test,all]"'


def normalized(name: str) -> str:
    """A distribution name as pip compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    """constraints.txt as {name: version}; every line that is not a comment is ``name==version``."""
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version.strip(), f"not a pin: {line!r}"
        pinned[normalized(name)] = version.strip()
    return pinned


def test_constraints_pin_every_requirement_within_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for listed in project["optional-dependencies"].values():
        requirements += [Requirement(r) for r in listed if not r.startswith("docret[")]
    pinned = pins()
    assert "torch" not in pinned  # installed first, CPU or CUDA build alike
    for requirement in requirements:
        name = normalized(requirement.name)
        if name == "torch":
            continue
        assert name in pinned, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pinned[name]}, outside {requirement}"
        )


def test_readme_and_ci_install_with_the_constraints_in_a_new_venv() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"pip install {INSTALL_TESTS} && pytest" in readme
    assert INSTALL_TESTS in ci
    assert "python3 -m venv" in ci and 'rm -rf "$venv"' in ci
    assert re.search(r"^pytest$", ci, re.MULTILINE)


def test_starlette_test_client_uses_a_transport_it_does_not_deprecate() -> None:
    pytest.importorskip("starlette")
    # A new interpreter: the test client may already be imported, its warning long shown.
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import starlette.testclient\n"
        "for w in caught:\n"
        "    print(w.category.__name__, w.message)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    # Other libraries' deprecations seen on the way (anyio's, with an older Starlette) are theirs.
    starlette_deprecations = [
        line for line in shown if line.startswith("StarletteDeprecationWarning") or "httpx" in line
    ]
    assert not starlette_deprecations, starlette_deprecations
