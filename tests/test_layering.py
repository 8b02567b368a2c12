"""The package layering, read from the import statements of every module (so it cannot drift).

``hnas.nn`` and ``hnas.checkpoints`` sit below ``engine`` and ``evaluation``, which do not
import each other; ``search_spaces`` imports none of the packages above it. The check follows
imports transitively, through top-level modules and package ``__init__`` files, and counts
imports inside functions too: a lazy import runs the imported module all the same.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hnas"

_ABOVE = ("hnas.benchmark", "hnas.commands", "hnas.cli")

#: package -> packages it must never reach, directly or through other modules.
FORBIDDEN = {
    "checkpoints": ("hnas.engine", "hnas.evaluation", "hnas.search.", "hnas.fewshot.train", "hnas.samplers",
                    *_ABOVE),
    "engine": ("hnas.evaluation", *_ABOVE),
    "evaluation": ("hnas.engine", *_ABOVE),
    "fewshot": ("hnas.evaluation", *_ABOVE),
    "nn": ("hnas.engine", "hnas.evaluation", "hnas.checkpoints", "hnas.samplers", *_ABOVE),
    "search": ("hnas.engine", *_ABOVE),
    "search_spaces": ("hnas.engine", "hnas.evaluation", "hnas.checkpoints", "hnas.samplers", "hnas.proxies",
                      "hnas.nn", *_ABOVE),
}


def imported_modules(path: Path) -> set[str]:
    """Every absolute name ``path`` imports, including ``from X import Y`` as ``X.Y`` (Y may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def module_file(name: str) -> Path | None:
    """The file of an ``hnas`` module or package, None for anything else (attributes, other libraries)."""
    if name != "hnas" and not name.startswith("hnas."):
        return None
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def executed(name: str) -> list[str]:
    """The modules importing ``name`` runs: its parent packages and itself (those that exist)."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1) if module_file(".".join(parts[:i]))]


@lru_cache(maxsize=None)
def direct(name: str) -> frozenset[str]:
    path = module_file(name)
    if path is None:
        return frozenset()
    return frozenset(module for imported in imported_modules(path) for module in executed(imported))


def reached(start: str) -> dict[str, str]:
    """Every hnas module running ``start`` can import, each with the module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        name = todo.pop()
        for module in direct(name):
            if module not in seen and module != start:
                seen[module] = name
                todo.append(module)
    return seen


def chain(start: str, target: str, via: dict[str, str]) -> str:
    links = [target]
    while links[-1] != start and links[-1] in via:
        links.append(via[links[-1]])
    return " -> ".join(reversed(links))


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix.rstrip(".") or module.startswith(prefix.rstrip(".") + ".") for prefix in prefixes)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_do_not_reach_upwards(package: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        start = _module_name(path)
        via = reached(start)
        offenders += [chain(start, module, via) for module in sorted(via) if _matches(module, FORBIDDEN[package])]
    assert not offenders, "\n".join(offenders)


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from hnas.engine.trainer import train\n")
    assert "hnas.engine.trainer" in imported_modules(module)


def test_the_check_follows_imports_through_top_level_modules() -> None:
    # hnas.evaluation.submission reaches hnas.config, which imports hnas.io.atomic:
    # an import two steps away is seen.
    via = reached("hnas.evaluation.submission")
    assert "hnas.io.atomic" in via and "hnas.io.atomic" not in direct("hnas.evaluation.submission")


def test_importing_a_submodule_runs_its_package() -> None:
    assert executed("hnas.fewshot.split") == ["hnas", "hnas.fewshot", "hnas.fewshot.split"]
