"""Finding the engine scripts/setup-acuitylite builds with nothing configured: QUANTED_PEGASUS
unset, no pegasus on PATH nor in ACUITY_PATH. The engine here is a stand-in executable in the
folder the script would build (a fake HOME, or QUANTED_ENGINE_DIR)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from quanted.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"


@pytest.fixture
def sample(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    shutil.copytree(SAMPLE, folder)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.delenv("QUANTED_PEGASUS", raising=False)
    monkeypatch.delenv("ACUITY_PATH", raising=False)
    monkeypatch.delenv("QUANTED_ENGINE_DIR", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return folder / "tinynet_uint8.quantize"


def _stand_in_engine(folder: Path) -> Path:
    program = folder / "bin" / "pegasus"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    (folder / ".quanted-engine-complete").write_text("acuitylite==6.57.1\n")
    return program


def test_the_engine_in_the_home_cache_is_used(sample, tmp_path, capsys):
    program = _stand_in_engine(tmp_path / "home" / ".cache" / "quanted" / "acuitylite-6.57.1")
    assert main(["hybrid", str(sample), "--dry-run"]) == 0
    assert f"{program} quantize " in capsys.readouterr().out


def test_quanted_engine_dir_is_used(sample, tmp_path, monkeypatch, capsys):
    program = _stand_in_engine(tmp_path / "elsewhere")
    monkeypatch.setenv("QUANTED_ENGINE_DIR", str(tmp_path / "elsewhere"))
    assert main(["hybrid", str(sample), "--dry-run"]) == 0
    assert f"{program} quantize " in capsys.readouterr().out


def test_no_engine_anywhere_names_the_command_that_builds_it(sample, tmp_path, monkeypatch,
                                                             capsys):
    monkeypatch.setenv("QUANTED_ENGINE_DIR", str(tmp_path / "empty-engine"))
    assert main(["hybrid", str(sample), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quanted: error: pegasus not found: build ACUITY's engine once with "
                          f"`{REPO / 'scripts' / 'setup'} --engine`")
    assert err.count("\n") == 1
