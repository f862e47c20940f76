"""The library's shape, checked: modules small enough to read, imports at module top (the layer
contract itself is import-linter's, in `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[1] / "plugins" / "newsdesk"
MAX_LINES = 600
# Imports that stay inside functions on purpose (docs/architecture.md, "Layers"): Airflow, which
# the library runs without and which costs seconds to import, and packages only one path needs.
LAZY_IMPORTS = {"airflow", "pyarrow", "charset_normalizer", "readability", "justext", "isal", "brotli", "redis"}


def modules() -> list[Path]:
    return sorted(p for p in PLUGINS.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(PLUGINS)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"


@pytest.mark.slow
def test_imports_sit_at_module_top_except_the_documented_lazy_ones():
    inside: list[str] = []
    for path in modules():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = ["." * node.level + (node.module or "")]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] not in LAZY_IMPORTS:
                        inside.append(f"{path.relative_to(PLUGINS)}:{node.lineno} {name}")
    assert inside == [], "imports inside functions (move them to the module top, or document why): " + \
        ", ".join(sorted(set(inside)))
