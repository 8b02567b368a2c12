"""Every module of ``hnas/search_spaces`` (the base and every family present) imports on its own,
and no module there imports one that imports it back, not even lazily inside a function.

The module list is read from the tree, so a family added later is covered without editing
this file. Imports under ``if TYPE_CHECKING:`` are annotations only and never run.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "hnas" / "search_spaces"


def module_names(package: Path) -> list[str]:
    """Dotted names of every module under ``package`` (a directory inside a ``sys.path`` root)."""
    root = package
    while (root.parent / "__init__.py").exists():
        root = root.parent
    root = root.parent
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _run_time_imports(path: Path) -> set[str]:
    """Modules ``path`` may import when it runs (anywhere, functions included; not ``TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def import_cycles(package: Path) -> list[list[str]]:
    """Every import circle among the modules of ``package``, each as a list of dotted names."""
    paths = dict(zip(module_names(package), sorted(package.rglob("*.py"))))
    graph = {name: sorted(_run_time_imports(path) & set(paths) - {name}) for name, path in paths.items()}
    cycles, done = [], set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycles.append(trail[trail.index(name):] + [name])
            return
        if name in done:
            return
        for target in graph[name]:
            visit(target, trail + [name])
        done.add(name)

    for name in graph:
        visit(name, [])
    return cycles


def failed_alone(root: Path, names: list[str]) -> dict[str, str]:
    """Import each of ``names`` in one fresh interpreter, dropping every module of their top package
    first (third-party modules such as Paddle stay loaded): ``{name: error}`` of those that fail."""
    top = names[0].split(".")[0]
    script = textwrap.dedent(f"""
        import importlib, json, sys, traceback
        sys.path.insert(0, {str(root)!r})
        failed = {{}}
        for name in {names!r}:
            for loaded in [m for m in sys.modules if m == {top!r} or m.startswith({top!r} + ".")]:
                del sys.modules[loaded]
            try:
                importlib.import_module(name)
            except Exception:
                failed[name] = traceback.format_exc(limit=-2)
        print(json.dumps(failed))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_module_of_every_family_imports_on_its_own() -> None:
    names = module_names(PACKAGE)
    assert {"hnas.search_spaces.base", "hnas.search_spaces.resnet.supernet", "hnas.search_spaces.mbv2.space"} <= set(
        names)
    failed = failed_alone(PACKAGE.parents[1], names)
    assert not failed, "\n".join(f"{name}:\n{error}" for name, error in failed.items())


def test_no_import_circle_in_search_spaces() -> None:
    cycles = import_cycles(PACKAGE)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def _write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "circ"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, text in files.items():
        (package / name).write_text(text)
    return package


def test_the_checks_find_a_circle(tmp_path: Path) -> None:
    package = _write_package(tmp_path, {
        "a.py": "from circ.b import B\nA = 1\n",
        "b.py": "from circ.a import A\nB = 2\n",
        "c.py": "def f():\n    from circ.d import D\n",
        "d.py": "from circ.c import f\nD = 3\n",
        "e.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from circ.a import A\n",
    })
    cycles = {frozenset(cycle) for cycle in import_cycles(package)}
    assert cycles == {frozenset({"circ.a", "circ.b"}), frozenset({"circ.c", "circ.d"})}
    failed = failed_alone(tmp_path, module_names(package))
    assert set(failed) == {"circ.a", "circ.b"}  # the lazy circle c <-> d only shows in the static check
    assert "ImportError" in failed["circ.a"]
