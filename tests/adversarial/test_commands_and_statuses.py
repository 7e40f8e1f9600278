"""Issue 11 items 7, 9 and 10: every failure is exit 0, 1 or 2 (engine runs: the engine's
status, 128+N when stopped); --from-command cannot point pegasus at another file; file names
starting with `-` reach pegasus as names."""

from __future__ import annotations

import shlex
import sys

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.command import from_printed_command, hybrid_args
from tests.conftest import SAMPLE

REBUILD = ("pegasus quantize --model tinynet.json --model-data tinynet.data "
           "--with-input-meta tinynet_inputmeta.yml --rebuild --quantizer asymmetric_affine "
           "--qtype uint8 --compute-entropy")


@pytest.fixture
def sample(tmp_path):
    for item in SAMPLE.iterdir():
        if item.is_file() and item.suffix != ".md":
            (tmp_path / item.name).write_bytes(item.read_bytes())
    return tmp_path / "tinynet_uint8.quantize"


def test_a_non_executable_pegasus_is_exit_2(sample, tmp_path, monkeypatch, capsys):
    script = tmp_path / "pegasus"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    monkeypatch.setenv("QUANTED_PEGASUS", str(script))
    before = sample.read_bytes()
    assert main(["hybrid", str(sample)]) == 2
    err = capsys.readouterr().err
    assert "permission denied" in err and "internal error" not in err
    assert sample.read_bytes() == before
    assert not list((sample.parent / ".quanted").glob("in-progress.*"))


def test_an_unforeseen_failure_is_still_exit_2(sample, monkeypatch, capsys):
    import quanted.cli.edit_commands as edit

    def boom(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(edit, "_add", boom)
    assert main(["add", str(sample), "x"]) == 2
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err


@pytest.mark.parametrize("tail", [
    "--model-quantize tinynet_uint8.quantize --model-quantize /etc/passwd",
    "--model-quantize /elsewhere/tinynet_uint8.quantize",
    "--model-quantize=../other/tinynet_uint8.quantize",
    "--model-quantize ../other/tinynet_uint8.quantize",
    "--model-quant /etc/passwd",
    "--model-q=other.quantize",
    "--model-quantize",
])
def test_from_command_refuses_any_other_model_quantize(sample, tail, capsys):
    before = sample.read_bytes()
    assert main(["hybrid", str(sample), "--from-command", f"{REBUILD} {tail}",
                 "--dry-run"]) == 2
    assert "quanted keeps and restores only tinynet_uint8.quantize" in capsys.readouterr().err
    assert sample.read_bytes() == before


@pytest.mark.parametrize("tail", ["", "--model-quantize tinynet_uint8.quantize",
                                  "--model-quantize=./tinynet_uint8.quantize",
                                  "--model-quantize {abs}"])
def test_from_command_accepts_the_users_own_file(sample, tail):
    text = f"{REBUILD} {tail.format(abs=sample)}"
    _, args = from_printed_command(text, sample)
    assert "--hybrid" in args and "--rebuild" not in args


def test_a_name_starting_with_a_dash_is_passed_as_a_name(tmp_path):
    for item in SAMPLE.iterdir():
        if item.is_file() and item.suffix != ".md":
            name = item.name.replace("tinynet", "-rf")
            (tmp_path / name).write_bytes(item.read_bytes())
    quantize = tmp_path / "-rf_uint8.quantize"
    args = hybrid_args(quantize, QuantizeDocument.open(quantize))
    assert args[args.index("--model-quantize") + 1] == "./-rf_uint8.quantize"
    assert args[args.index("--model") + 1] == "./-rf.json"
    assert not any(a.startswith("-rf") for a in args)
    _, printed = from_printed_command(f"{REBUILD}", quantize)
    assert printed[-1] == "./-rf_uint8.quantize"


def test_hybrid_and_verify_exit_statuses_stay_in_range(sample, tmp_path, capsys):
    failing = tmp_path / "failing.py"
    failing.write_text("import sys\nsys.exit(7)\n")  # a STAND-IN pegasus that fails
    failing_pegasus = shlex.join([sys.executable, str(failing)])
    assert main(["hybrid", str(sample), "--pegasus", failing_pegasus]) == 7
    assert main(["verify", str(sample), "--pegasus", failing_pegasus]) == 7
