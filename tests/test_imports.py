"""Module shape: no import cycle between our modules, and each module imports alone in a fresh interpreter
(no module works only because another one happened to be imported first)."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("flows", "extractors", "warehouse", "alerts")


def our_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_by(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that `name` imports anywhere in its file (a function-level import is still a
    dependency: two modules importing each other inside functions are one tangled concern)."""
    found = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package[: len(package) - node.level + 1] + ([node.module] if node.module else [])
                )
            # `from pkg import sub` depends on the submodule; `from mod import name` on the module
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
    return {m for m in found if m in modules and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_our_modules() -> None:
    modules = our_modules()
    graph = {name: imported_by(name, path, modules) for name, path in modules.items()}
    assert graph["warehouse.cluster"] and graph["flows.cli"]  # the graph is really read
    assert cycles(graph) == []


def test_each_module_imports_alone_in_a_fresh_interpreter() -> None:
    def import_alone(module: str) -> tuple[str, int, str]:
        out = subprocess.run(
            [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, timeout=240
        )
        return module, out.returncode, out.stderr.strip()[-400:]

    modules = sorted(our_modules())
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [(m, err) for m, code, err in pool.map(import_alone, modules) if code != 0]
    assert len(modules) > 40 and failures == []
