"""The edges of a command's run: ctrl+c before its handler is in place, a stdout that cannot
take the confirmation of a saved edit, files the engine's YAML loader refuses (never written
by add/remove, reported by check), and input nested far deeper than any .quantize file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.engine_yaml import MAX_INT_DIGITS
from quanted.core.format.validate import check
from quanted.core.format.yamlshape import MAX_DEPTH
from tests.conftest import REPO
from tests.core.docs import v2_doc


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc(customized="customized_quantize_layers:\n  c1_8: float16\n"))
    return path


def _command(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, text=True,
                          capture_output=True, timeout=120, **kwargs)


# -- ctrl+c before the command's handler ----------------------------------------------------

@pytest.mark.parametrize("where", ["quanted.cli.dispatch._safe_streams",
                                   "quanted.cli.dispatch.main"])
def test_ctrl_c_before_the_handler_is_one_line_and_130(model, where):
    """The first tens of ms are imports and the parser; a ctrl+c there is KeyboardInterrupt
    raised wherever the interpreter is (here: in the step named)."""
    module, _, name = where.rpartition(".")
    code = ("import importlib, sys\n"
            f"module = importlib.import_module({module!r})\n"
            "def stopped(*args, **kwargs):\n    raise KeyboardInterrupt\n"
            f"setattr(module, {name!r}, stopped)\n"
            "sys.argv = ['quanted', 'add', sys.argv[1], 'c2_6']\n"
            "from quanted.launch import run\nrun()\n")
    before = model.read_bytes()
    done = _command(code, str(model))
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "quanted: interrupted\n")
    assert model.read_bytes() == before


# -- a stdout that cannot take the confirmation ---------------------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["add", "c2_6"], ["remove", "c1_8"]])
def test_an_edit_saved_is_exit_0_even_when_stdout_is_full(model, args, tmp_path):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "quanted", args[0], str(model), args[1]],
                              cwd=REPO, text=True, stdout=full, stderr=subprocess.PIPE,
                              timeout=120, env={**os.environ,
                                                "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert done.returncode == 0
    assert done.stderr == (f"quanted: warning: {model}: saved, but its confirmation could not "
                           "be printed (No space left on device)\n")
    text = model.read_text()
    assert ("  c2_6: dynamic_fixed_point-i16" in text) == (args[0] == "add")
    assert ("  c1_8: float16" in text) == (args[0] == "add")


# -- files the engine's YAML loader refuses ----------------------------------------------------

def _table_comment(model: Path, comment: str) -> None:
    text = model.read_text()
    model.write_text(text.replace("    qtype: u8\n", f"    qtype: u8  # {comment}\n", 1))


@pytest.mark.parametrize("command", [["add", "c2_6"], ["remove", "c1_8"]])
@pytest.mark.parametrize("full", [True, False], ids=["recalled", "first-edit"])
def test_add_and_remove_never_write_a_file_the_engine_refuses(model, capsys, command, full):
    _table_comment(model, "made by\x01a tool")
    if full:
        assert main(["layers", str(model)]) == 0  # scanned already
    before = model.read_bytes()
    assert main([command[0], str(model), command[1]]) == 1
    captured = capsys.readouterr()
    assert captured.err.endswith(
        ":5: U+0001, a control character: the engine's YAML loader rejects the file; nothing "
        "written (quanted check lists every problem)\n")
    assert "added" not in captured.out and "removed" not in captured.out
    assert model.read_bytes() == before
    assert main(["check", str(model)]) == 1
    assert "5: error: U+0001, a control character" in capsys.readouterr().out


def test_a_control_character_in_the_block_is_refused_too(model, capsys):
    text = model.read_text()
    model.write_text(text.replace("  c1_8: float16\n", "  c1_8: float16  # x\x07y\n"))
    before = model.read_bytes()
    assert main(["add", str(model), "c2_6"]) == 1
    assert "U+0007, a control character" in capsys.readouterr().err
    assert model.read_bytes() == before


def test_a_file_the_engine_loads_is_written_as_ever(model, capsys):
    _table_comment(model, "caf\u00e9 \u2014 fine")  # non-ASCII the loader reads
    assert main(["add", str(model), "c2_6"]) == 0
    assert "  c2_6: dynamic_fixed_point-i16" in model.read_text()


@pytest.mark.parametrize("digits", [MAX_INT_DIGITS + 1, 1_000_000])
def test_an_integer_the_engine_cannot_read_is_an_error(model, capsys, digits):
    text = model.read_text()
    model.write_text(text.replace("    zero_point: 83\n", f"    zero_point: {'7' * digits}\n",
                                  1))
    assert main(["check", str(model)]) == 1
    out = capsys.readouterr().out
    assert (f"m_uint8.quantize:12: error: an integer of {digits} digits: the engine's YAML "
            f"loader reads at most {MAX_INT_DIGITS}") in out
    before = model.read_bytes()
    assert main(["add", str(model), "c2_6"]) == 1
    assert model.read_bytes() == before
    # the editor's check, of the fast index it opened
    found = [p for p in check(QuantizeDocument.open(model, full=False)) if p.line == 12]
    assert found and found[0].message.startswith(f"an integer of {digits} digits")


def test_the_longest_integer_the_engine_reads_is_fine(model, capsys):
    text = model.read_text()
    model.write_text(text.replace("    zero_point: 83\n",
                                  f"    zero_point: {'7' * MAX_INT_DIGITS}\n", 1))
    assert main(["check", str(model)]) == 0


# -- deeply nested input ---------------------------------------------------------------------

def _nested(depth: int, indent: int) -> str:
    return "".join(" " * (indent + i) + f"k{i}:\n" for i in range(depth)) + \
        " " * (indent + depth) + "v: 1\n"


@pytest.mark.parametrize("command", ["check", "add"])
def test_input_nested_thousands_deep_is_a_clear_error(model, capsys, command):
    text = model.read_text()
    model.write_text(text.replace("    zero_point: 83\n",
                                  "    zero_point:\n" + _nested(5000, 4), 1))
    args = [command, str(model)] + (["c2_6"] if command == "add" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"nested more than {MAX_DEPTH} levels deep" in err and err.count("\n") == 1


def test_a_customized_block_nested_thousands_deep_is_a_clear_error(model, capsys):
    text = model.read_text()
    model.write_text(text.replace("customized_quantize_layers:\n  c1_8: float16\n",
                                  "customized_quantize_layers:\n" + _nested(3000, 1)))
    assert main(["add", str(model), "c2_6"]) == 2
    err = capsys.readouterr().err
    assert "nested" in err and "internal error" not in err and err.count("\n") == 1
