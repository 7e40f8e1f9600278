"""What `quanted hybrid` does when pegasus is missing or broken. The stand-in scripts here
play a BROKEN pegasus (nonzero exit, truncated file); the real engine's behaviour is tested in
tests/engine/test_hybrid_engine.py."""

from __future__ import annotations

import stat
import sys

import pytest

from quanted.cli import main
from tests.core.docs import v2_doc

ORIGINAL = v2_doc(
    customized="customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16  # mine\n")


@pytest.fixture
def model(tmp_path):
    for name in ("m.json", "m.data", "m_inputmeta.yml"):
        (tmp_path / name).write_text("{}")
    path = tmp_path / "m_uint8.quantize"
    path.write_text(ORIGINAL)
    return path


def stand_in(tmp_path, body: str):
    script = tmp_path / "broken-pegasus"
    script.write_text(f"#!{sys.executable}\nimport sys, pathlib\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_missing_pegasus(model, monkeypatch, capsys):
    monkeypatch.delenv("QUANTED_PEGASUS", raising=False)
    monkeypatch.delenv("ACUITY_PATH", raising=False)
    monkeypatch.setenv("PATH", str(model.parent))
    monkeypatch.setenv("QUANTED_ENGINE_DIR", str(model.parent / "no-engine"))
    assert main(["hybrid", str(model)]) == 2
    err = capsys.readouterr().err
    assert "pegasus not found" in err and "QUANTED_PEGASUS" in err
    assert err.rstrip().endswith("(or pass --pegasus CMD)")  # the CLI's advice, not the editor's
    assert model.read_text() == ORIGINAL


def test_nonzero_exit_restores_the_file_and_passes_the_status(model, tmp_path, capsys):
    pegasus = stand_in(tmp_path, "pathlib.Path('m_uint8.quantize').write_text('version: 2\\n')\n"
                                 "print('E 10:00:00 out of memory', flush=True)\nsys.exit(3)")
    assert main(["hybrid", str(model), "--pegasus", pegasus]) == 3
    err = capsys.readouterr().err
    assert "pegasus exited with status 3; restored m_uint8.quantize" in err
    assert model.read_text() == ORIGINAL


def test_empty_file_left_behind_is_restored(model, tmp_path, capsys):
    pegasus = stand_in(tmp_path, "pathlib.Path('m_uint8.quantize').write_text('')")
    assert main(["hybrid", str(model), "--pegasus", pegasus]) == 1
    err = capsys.readouterr().err
    assert "left m_uint8.quantize unusable (empty file" in err
    assert model.read_text() == ORIGINAL


def test_log_streams_to_stderr_without_colour(model, tmp_path, capsys):
    pegasus = stand_in(tmp_path, "print('\\x1b[32mI 10:00:00 Start quantization...\\x1b[0m')\n"
                                 "print(sys.argv[1:])")
    assert main(["hybrid", str(model), "--pegasus", pegasus]) == 0
    out, err = capsys.readouterr()
    assert "I 10:00:00 Start quantization..." in err and "\x1b" not in err
    assert "'--hybrid'" in err and "'--compute-entropy'" in err
    assert "Start quantization" not in out  # stdout carries only the result
