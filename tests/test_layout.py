"""The tests test the product: they never import the benchmarks (bench/) or the research
scripts (research/), which may change with what they measure."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_packages(path: Path) -> set[str]:
    """The top-level names of every absolute import in ``path``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_tests_never_import_bench_or_research():
    files = sorted(TESTS.glob("*.py"))
    assert len(files) > 10
    offending = {p.name: imported_packages(p) & {"bench", "research"} for p in files}
    assert {name: found for name, found in offending.items() if found} == {}
