"""CLI conventions a new user expects: unknown subcommands list the commands,
`remove` is idempotent like `add`, ONNX node names get their layer id, `--above`/`--top`,
the engine log on stderr (stdout for results), `--quiet`, TensorFlow's start-up noise hidden
but kept in .quanted/logs/. The stand-in pegasus here only prints log lines; the real engine's
noise is checked in tests/engine/test_new_user_engine.py."""

from __future__ import annotations

import json
import shutil
import stat
import sys

import pytest

from quanted.cli import main
from tests.conftest import SAMPLE
from tests.core.docs import v2_doc

NOISE = ("2026-11-27 04:41:43.509243: E external/local_xla/xla/stream_executor/cuda/"
         "cuda_fft.cc:485] Unable to register cuFFT factory: Attempting to register factory "
         "for plugin cuFFT when one has already been registered")
CONVERTER = "c2_6_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12"


@pytest.fixture
def sample(tmp_path):
    for name in ("tinynet_uint8.quantize", "entropy.txt"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    return tmp_path / "tinynet_uint8.quantize"


@pytest.fixture
def hybrid_done(tmp_path):
    """A file after a (pretend) hybrid run: a converter layer in the file and the report."""
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc(layers=("c1_8", "c2_6", CONVERTER, "logits_2")))
    (tmp_path / "entropy.txt").write_text(
        f"@c1_8:out0, 0.2\n@c2_6:out0, 0.5\n@{CONVERTER}:out0, 0.9\n@logits_2:out0, 0.7\n")
    return path


@pytest.mark.parametrize("argv, hint", [
    (["frobnicate", "x"], None),
    (["lyers", "f.quantize"], "did you mean 'layers'?"),
    (["frobnicate"], None),
])
def test_an_unknown_subcommand_lists_the_subcommands(argv, hint, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"quanted: error: unknown command {argv[0]!r}")
    assert "commands: layers, add, remove, " in err and "hybrid, verify" in err
    assert "unrecognized arguments" not in err and "usage:" not in err
    if hint:
        assert hint in err


def test_a_missing_file_is_still_a_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / "nofile.quantize")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_remove_of_a_layer_not_customized_is_unchanged_exit_0(sample, capsys):
    before = sample.read_bytes()
    layer = "layer1/layer1.0/conv1/Conv_output_0_34"
    assert main(["remove", str(sample), layer]) == 0
    assert capsys.readouterr().out == f"unchanged {layer}: not customized\n"
    assert sample.read_bytes() == before
    assert main(["remove", str(sample), "Flatten_output_0_3", layer]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "removed Flatten_output_0_3", f"unchanged {layer}: not customized"]
    assert main(["remove", str(sample), "no_such_layer"]) == 1  # a typo stays an error


def test_an_onnx_node_name_gets_its_layer_id(sample, capsys):
    before = sample.read_bytes()
    assert main(["add", str(sample), "/layer1/layer1.0/conv1/Conv"]) == 1
    err = capsys.readouterr().err
    assert ("that looks like an ONNX node name; its layer id is "
            "'layer1/layer1.0/conv1/Conv_output_0_34'") in err
    assert sample.read_bytes() == before


def test_layers_above_and_top_leave_converters_out(hybrid_done, capsys):
    assert main(["layers", str(hybrid_done), "--above", "0.5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["layer"] for r in rows] == ["logits_2", "c2_6"]
    assert main(["layers", str(hybrid_done), "--top", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("logits_2 ")
    assert main(["layers", str(hybrid_done), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["layer"] == CONVERTER and rows[0]["converter"] is True  # listed, marked
    assert main(["layers", str(hybrid_done)]) == 0
    converter_line = capsys.readouterr().out.splitlines()[1]
    assert converter_line.startswith(CONVERTER) and converter_line.endswith("[converter]")


def test_add_above_and_top(hybrid_done, capsys):
    assert main(["add", str(hybrid_done), "--top", "1"]) == 0
    assert capsys.readouterr().out == "added logits_2: dynamic_fixed_point-i16\n"
    assert main(["add", str(hybrid_done), "--above", "0.4"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "unchanged logits_2: dynamic_fixed_point-i16", "added c2_6: dynamic_fixed_point-i16"]
    assert CONVERTER + ":" not in hybrid_done.read_text().split("customized_quantize_layers")[1]
    assert main(["add", str(hybrid_done)]) == 1
    assert "--above T / --top N" in capsys.readouterr().err


def test_add_above_without_a_report_is_an_error(tmp_path, capsys):
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc())
    assert main(["add", str(path), "--above", "0.3"]) == 1
    err = capsys.readouterr().err
    assert "no entropy report found (looked for m_uint8_entropy.txt" in err
    assert "--above and --top need an entropy report" in err


def pegasus_stand_in(tmp_path) -> str:
    """Prints TensorFlow's start-up noise and one engine line, writes nothing."""
    script = tmp_path / "bin" / "pegasus"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\nprint({NOISE!r})\n"
                      "print('\\x1b[32mI 10:00:00 Start quantization...\\x1b[0m')\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.fixture
def runnable(tmp_path):
    for name in ("tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt",
                 "tinynet_uint8.quantize"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    return tmp_path / "tinynet_uint8.quantize"


def test_engine_noise_is_hidden_and_kept_in_a_log_file(runnable, tmp_path, capsys):
    pegasus = pegasus_stand_in(tmp_path)
    assert main(["hybrid", str(runnable), "--pegasus", pegasus]) == 0
    out, err = capsys.readouterr()
    assert "I 10:00:00 Start quantization..." in err and "Start quantization" not in out
    assert "cuFFT" not in out + err
    logs = list((runnable.parent / ".quanted" / "logs").glob("tinynet_uint8.quantize.*.hybrid.log"))
    assert len(logs) == 1
    assert f"quanted: engine log: {logs[0]} (1 TensorFlow start-up line hidden)" in err
    kept = logs[0].read_text()
    assert NOISE in kept and "I 10:00:00 Start quantization..." in kept and "\x1b" not in kept


def test_quiet_shows_no_engine_log(runnable, tmp_path, capsys):
    pegasus = pegasus_stand_in(tmp_path)
    assert main(["hybrid", str(runnable), "--pegasus", pegasus, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "Start quantization" not in out + err and "quanted: running" not in err


def test_verify_defaults_to_every_input_of_the_dataset(runnable, tmp_path, capsys):
    pegasus = pegasus_stand_in(tmp_path)
    assert main(["verify", str(runnable), "--pegasus", pegasus, "--dry-run"]) == 0
    commands = [line for line in capsys.readouterr().out.splitlines() if "inference" in line]
    assert commands and all("--iterations 4" in line for line in commands)  # dataset.txt: 4
    assert main(["verify", str(runnable), "--pegasus", pegasus, "--dry-run",
                 "--iterations", "2"]) == 0
    assert "--iterations 2" in capsys.readouterr().out
