"""The house's one rule: imports point down the layers (ARCHITECTURE.md). Every import in
the package counts, at the top of a module, inside a function or under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "champion"
LAYERS = [
    {"errors", "contract", "credentials", "__init__"},  # one error hierarchy; the documents' base; the version
    {"config"},  # typed settings
    {"project", "startup", "locks"},  # a project's folder and files; process set-up; locks
    {"data", "evaluation"},  # domain, pure
    {"recipes", "monitoring"},  # domain, on top of the metrics and tests
    {"registry", "state"},  # stores, each behind its adapter
    {"workspace"},  # a project with its opened stores, feedback, processes
    {"serving", "triggers", "packaging"},  # services that run or package models
    {"pipelines"},  # the steps, orchestrating stores and services
    {"ui"},  # the control room: pages over the steps
    {"cli"},  # the edge
    {"__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def unit(module: Path) -> str:
    """The top-level package or module a file belongs to."""
    parts = module.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else module.stem


def imported_units(module: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "champion":
                names = [f"champion.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("champion."):
                first = name.split(".")[1]
                real = (PACKAGE / first).is_dir() or (PACKAGE / f"{first}.py").is_file()
                found.add((first if real else "__init__", node.lineno))  # else a name of champion/__init__
    return found


def test_every_unit_has_a_layer() -> None:
    units = {unit(p) for p in PACKAGE.rglob("*.py")}
    assert units <= set(RANK), f"give these a layer in the test and ARCHITECTURE.md: {sorted(units - set(RANK))}"


def test_imports_only_point_down() -> None:
    wrong = []
    for module in sorted(PACKAGE.rglob("*.py")):
        own = unit(module)
        for target, line in sorted(imported_units(module)):
            if target != own and RANK[target] >= RANK[own]:
                wrong.append(f"{module.relative_to(PACKAGE)}:{line} imports champion.{target} "
                             f"(layer {RANK[target]}, its own is {RANK[own]})")
    assert not wrong, "\n".join(wrong)
