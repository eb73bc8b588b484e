"""The house rules a newcomer relies on (docs/architecture.md), checked on the source itself:
modules small enough to read, no reaching into another module's private names, and no import
tucked inside a function to get round a circle (the layers themselves are import-linter's
contract, run by `make lint`)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "generations"
MODULES = sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)
MAX_LINES = 600


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT.parent))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_module_is_over_600_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_private_name_is_imported_from_another_module(path):
    tree = ast.parse(path.read_text())
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("generations")
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__version__"
    ]
    assert private == []


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_the_app_imports_nothing_inside_a_function(path):
    tree = ast.parse(path.read_text())
    inside = [
        f"line {inner.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
    ]
    assert inside == []
