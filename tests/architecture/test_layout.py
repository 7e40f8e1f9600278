"""The architecture stays visible: a Textual-free core, small modules, styles in .tcss."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "quanted"
MAX_LINES = 400
# A module may pass the budget when it is one concept and says why at its top, in a comment
# or its docstring's opening lines: "Past 400 lines: <reason>". Nothing is split for size alone.
PAST_BUDGET = re.compile(r"Past 400 lines: \S")


def test_import_linter_contracts_hold():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": str(Path(sys.executable).parent)})
    assert result.returncode == 0, result.stdout + result.stderr
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", result.stdout)
    assert kept is not None and int(kept[1]) >= 1 and kept[2] == "0", result.stdout


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_never_imports_textual(path):
    # A second, dependency-free check beside import-linter: even function-level imports count.
    bad = {n for n in _imports(path)
           if n.split(".")[0] in {"textual", "rich"} or n.startswith("quanted.tui")}
    assert not bad, f"{path.relative_to(REPO)} imports {bad}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_past_400_lines_says_why_at_its_top(path):
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_LINES or PAST_BUDGET.search("\n".join(lines[:12])), (
        f"{path.relative_to(REPO)} has {len(lines)} lines: split it by concept, or say at its "
        "top why it is one (\"Past 400 lines: ...\")")


def test_app_module_stays_small():
    app = PACKAGE / "tui" / "app.py"
    if not app.exists():
        pytest.fail("quanted/tui/app.py is missing")
    assert len(app.read_text().splitlines()) <= 150
