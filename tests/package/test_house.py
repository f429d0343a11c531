"""The shape of the house, read from the code's own imports and definitions: small files and
functions, no import circles, no arrow back up (the provider never imports the fake; an engine
never imports the fake's service or transports), and nothing outside ``tools/`` reads the
specs folder beside the clone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The packages, by import name, and the folder each lives in.
PACKAGES = {"otc_elb_listener": ROOT / "provider" / "otc_elb_listener",
            "fake_elb": ROOT / "fake_elb"}
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """Every module of ours that ``module`` imports, at any level (function bodies and
    ``TYPE_CHECKING`` blocks included: a circle hidden there is still a circle)."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            stem = base[:len(base) - node.level + 1] if node.level else []
            prefix = ".".join([*stem, *([node.module] if node.module else [])])
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _package_of(module: str) -> str:
    return module.rpartition(".")[0] if MODULES[module].name != "__init__.py" else module


def test_no_import_circles_between_modules() -> None:
    """A package's ``__init__`` that names its modules lazily is not an arrow back."""
    def edges(module: str) -> set[str]:
        return {t for t in GRAPH[module] if MODULES[t].name != "__init__.py"}

    circles = []
    for start in GRAPH:
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for target in edges(node):
                if target == start:
                    circles.append(" -> ".join([*path, start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
    assert not circles, "\n".join(sorted(set(circles)))


@pytest.mark.parametrize(("importer", "forbidden"), [
    ("otc_elb_listener", "fake_elb"),
    ("fake_elb.engine", "fake_elb.service"),
    ("fake_elb.engine", "fake_elb.transport"),
    ("fake_elb.service", "fake_elb.transport"),
    ("fake_elb.service", "fake_elb.engine"),
    ("fake_elb.transport", "fake_elb.engine"),
])
def test_no_arrow_back_up(importer: str, forbidden: str) -> None:
    wrong = sorted(f"{module} -> {target}" for module, targets in GRAPH.items()
                   if module.startswith(importer) for target in targets
                   if target == forbidden or target.startswith(forbidden + "."))
    assert not wrong, wrong


def test_no_file_over_500_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for path in MODULES.values()
            if (n := len(path.read_text().splitlines())) > MAX_FILE_LINES}
    assert not long, long


def test_no_function_over_60_lines() -> None:
    long = {}
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert not long, long


def test_nothing_outside_tools_names_the_shared_folder() -> None:
    """The specs beside the clone are the team's, not the project's: users never see them."""
    pattern = re.compile(r"\.\./shared|shared/(spec|vendor|DESIGN)")
    offenders = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if (not path.is_file() or relative.parts[0] in {".git", ".venv", "tools", ".ci"}
                or "__pycache__" in relative.parts or path.suffix not in {
                    ".py", ".md", ".toml", ".yaml", ".txt", ".cfg"}):
            continue
        if path == Path(__file__):
            continue
        if pattern.search(path.read_text(errors="replace")):
            offenders.append(str(relative))
    assert not offenders, offenders
