"""One name per concept: no two classes in quanted share a name, so a name read in a traceback,
a grep or an import says which class it is. Module-level classes count (also under an `if` or
`try`); a class nested in another (a Textual message such as `VerifyScreen.Finished`) is named
through its owner."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "quanted"


def class_names(folder: Path) -> dict[str, list[str]]:
    """Class name -> the modules under `folder` that define one at their top level."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.rglob("*.py")):
        nodes = list(ast.parse(path.read_text(encoding="utf-8")).body)
        while nodes:
            node = nodes.pop()
            if isinstance(node, ast.ClassDef):
                found[node.name].append(str(path.relative_to(folder)))
            elif isinstance(node, (ast.If, ast.Try)):
                nodes.extend(node.body + node.orelse)
    return found


def test_the_check_sees_classes_under_an_if_and_not_nested_ones(tmp_path):
    (tmp_path / "a.py").write_text("class A: pass\nif True:\n    class B: pass\n")
    (tmp_path / "b.py").write_text("class A:\n    class B: pass\n")
    assert class_names(tmp_path) == {"A": ["a.py", "b.py"], "B": ["a.py"]}


def test_no_two_classes_in_quanted_share_a_name():
    shared = {name: where for name, where in class_names(PACKAGE).items() if len(where) > 1}
    assert not shared, "classes sharing a name: " + "; ".join(
        f"{name} in {', '.join(where)}" for name, where in sorted(shared.items()))
