"""The arrows between folders point one way (ARCHITECTURE.md): ui -> cli? no: cli -> ui -> pipeline ->
stages, and the stages among themselves capture -> vision -> scoring -> signal -> store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "monitor"
STAGES = ("capture", "vision", "scoring", "signal", "store", "pipeline")  # each may import earlier ones


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file, lazy imports inside functions included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_qt_only_under_ui():
    outside = sorted(m for m, imports in GRAPH.items()
                     if _area(m) != "ui" and any(i.split(".")[0] == "PyQt6" for i in imports))
    assert outside == []


@pytest.mark.parametrize("stage", STAGES)
def test_stages_never_import_upwards(stage: str):
    allowed = set(STAGES[:STAGES.index(stage) + 1])
    upward = sorted((m, i) for m, imports in GRAPH.items() if _area(m) == stage
                    for i in imports if i.startswith("monitor.") and _area(i) in set(STAGES) - allowed)
    assert upward == []
    beyond = sorted((m, i) for m, imports in GRAPH.items() if _area(m) == stage
                    for i in imports if _area(i) in ("ui", "cli", "review", "tuning", "training"))
    assert beyond == []


def test_ui_never_imports_the_command_line():
    assert sorted(m for m, imports in GRAPH.items()
                  if _area(m) == "ui" and any(_area(i) == "cli" for i in imports)) == []


def test_no_import_cycle_between_areas():
    edges = {(_area(m), _area(i)) for m, imports in GRAPH.items() for i in imports
             if i.startswith("monitor.") and _area(i) and _area(m) and _area(i) != _area(m)}
    areas = {a for edge in edges for a in edge}
    reach = {a: {b for x, b in edges if x == a} for a in areas}
    changed = True
    while changed:  # transitive closure
        changed = False
        for a in areas:
            more = set().union(*(reach[b] for b in reach[a])) - reach[a]
            if more:
                reach[a] |= more
                changed = True
    assert sorted(a for a in areas if a in reach[a]) == []
