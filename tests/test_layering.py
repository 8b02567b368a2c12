"""The package layering, read from the import statements of every module (so it cannot drift).

``hnas.nn`` sits below ``engine`` and ``evaluation``, which do not import each other;
``search_spaces`` imports none of the packages above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hnas"

#: package -> packages it must never import (also not lazily inside a function).
FORBIDDEN = {
    "engine": ("hnas.evaluation", "hnas.benchmark", "hnas.commands"),
    "evaluation": ("hnas.engine", "hnas.benchmark", "hnas.commands"),
    "fewshot": ("hnas.evaluation", "hnas.benchmark", "hnas.commands"),
    "nn": ("hnas.engine", "hnas.evaluation", "hnas.benchmark", "hnas.commands", "hnas.samplers"),
    "search_spaces": ("hnas.engine", "hnas.evaluation", "hnas.benchmark", "hnas.commands", "hnas.samplers",
                      "hnas.proxies", "hnas.nn"),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_do_not_import_upwards(package: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in imported_modules(path):
            if name.startswith(FORBIDDEN[package]):
                offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from hnas.engine.trainer import train\n")
    assert "hnas.engine.trainer" in imported_modules(module)
