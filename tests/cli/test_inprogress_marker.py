"""add/remove look for a killed engine run's marker without core/recovery: a marker left
beside the file still refuses them (named by a relative path too), and `layers` warns."""

from __future__ import annotations

import os

import pytest

from quanted.cli import main
from quanted.core.state import inprogress, recovery
from tests.core.docs import v2_doc


@pytest.fixture
def marked(tmp_path):
    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(layers=["c1_8", "c2_6"], customized="customized_quantize_layers:\n"
                                                                   "  c2_6: float16\n"))
    assert not inprogress.may_exist(target)
    copy = tmp_path / "copy.quantize"
    copy.write_bytes(target.read_bytes())
    recovery.mark(target, "quantize", copy, None, ["pegasus"])  # as a killed run leaves it
    assert inprogress.may_exist(target)
    return target


@pytest.mark.parametrize("argv", [["add", "{}", "c1_8"], ["remove", "{}", "c2_6"]])
@pytest.mark.parametrize("relative", [False, True])
def test_a_left_marker_refuses_an_edit(marked, capsys, monkeypatch, argv, relative):
    monkeypatch.chdir(marked.parent)
    name = marked.name if relative else str(marked)
    before = marked.read_bytes()
    assert main([arg.format(name) for arg in argv]) == 1
    assert "quanted recover" in capsys.readouterr().err
    assert marked.read_bytes() == before


def test_a_left_marker_is_a_warning_for_layers(marked, capsys):
    assert main(["layers", str(marked)]) == 0
    assert "quanted: warning:" in capsys.readouterr().err


def test_no_marker_no_refusal(tmp_path, capsys):
    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(layers=["c1_8"]))
    (tmp_path / ".quanted").mkdir()
    assert not inprogress.may_exist(target)
    assert main(["add", str(target), "c1_8"]) == 0
    assert "added c1_8" in capsys.readouterr().out
    assert os.path.exists(target)
