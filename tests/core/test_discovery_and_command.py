"""Finding pegasus and building the --hybrid command line (no engine needed)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.command import (CommandError, dominant_quantization,
                                         from_printed_command, hybrid_args)
from quanted.core.engine.discovery import EngineNotFound, find_pegasus
from quanted.core.engine.logscan import scan_line, strip_ansi
from tests.core.docs import v2_doc

REPO = Path(__file__).resolve().parents[2]


def executable(path):
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_discovery_order(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "pegasus")
    env = {"PATH": str(bin_dir), "QUANTED_PEGASUS": "python3 '/opt/my acuity/pegasus.py'"}
    assert find_pegasus("/x/pegasus --verbose", env) == ["/x/pegasus", "--verbose"]
    assert find_pegasus(None, env) == ["python3", "/opt/my acuity/pegasus.py"]
    del env["QUANTED_PEGASUS"]
    assert find_pegasus(None, env) == [str(bin_dir / "pegasus")]


def test_acuity_path_and_non_executable_pegasus_py(tmp_path):
    (tmp_path / "pegasus.py").write_text("print('hi')\n")
    env = {"PATH": "/nonexistent", "ACUITY_PATH": str(tmp_path)}
    assert find_pegasus(None, env) == ["python3", str(tmp_path / "pegasus.py")]


def test_missing_pegasus_names_the_ways_both_drivers_have(tmp_path):
    with pytest.raises(EngineNotFound) as exc:
        find_pegasus(None, {"PATH": str(tmp_path), "HOME": str(tmp_path)})
    message = str(exc.value)
    assert "QUANTED_PEGASUS" in message and "PATH" in message and "ACUITY_PATH" in message
    assert "--pegasus" not in message  # the editor shows it too; the CLI adds its option
    # The one command that builds the engine, by its full path in this checkout.
    assert f"`{REPO / 'scripts' / 'setup'} --engine`" in message
    assert "is not finished" not in message


def _built_engine(folder, complete=True):
    """What scripts/setup-acuitylite leaves: bin/pegasus, and the marker written last."""
    (folder / "bin").mkdir(parents=True)
    executable(folder / "bin" / "pegasus")
    if complete:
        (folder / ".quanted-engine-complete").write_text("acuitylite==6.57.1\n")
    return folder / "bin" / "pegasus"


def test_the_engine_setup_builds_is_found_in_the_home_cache(tmp_path):
    home = tmp_path / "home"
    program = _built_engine(home / ".cache" / "quanted" / "acuitylite-6.57.1")
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(home)}
    assert find_pegasus(None, env) == [str(program)]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "pegasus")
    assert find_pegasus(None, {**env, "PATH": str(bin_dir)}) == [str(bin_dir / "pegasus")]


def test_quanted_engine_dir_is_honoured_as_the_script_does(tmp_path):
    program = _built_engine(tmp_path / "engine")
    home = tmp_path / "home"
    _built_engine(home / ".cache" / "quanted" / "acuitylite-6.57.1")
    env = {"PATH": "/nonexistent", "HOME": str(home), "QUANTED_ENGINE_DIR": f"{tmp_path}/engine/"}
    assert find_pegasus(None, env) == [str(program)]
    with pytest.raises(EngineNotFound, match="--engine"):  # its own folder, nothing else
        find_pegasus(None, {**env, "QUANTED_ENGINE_DIR": str(tmp_path / "empty")})


def test_an_unfinished_engine_is_not_run_and_is_said(tmp_path):
    _built_engine(tmp_path / "engine", complete=False)
    env = {"PATH": "/nonexistent", "QUANTED_ENGINE_DIR": str(tmp_path / "engine")}
    with pytest.raises(EngineNotFound, match="is not finished") as exc:
        find_pegasus(None, env)
    assert "--engine" in str(exc.value)


@pytest.fixture
def model_dir(tmp_path):
    for name in ("mobilenet.json", "mobilenet.data"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "mobilenet_inputmeta.yml").write_text(
        "input_meta:\n  databases:\n  - path: dataset.txt\n    type: TEXT\n"
    )
    (tmp_path / "dataset.txt").write_text("a.npy\nb.npy\n\nc.npy\n")
    path = tmp_path / "mobilenet_uint8.quantize"
    path.write_text(v2_doc(
        customized="customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16\n"))
    return path


def test_zero_config_arguments_from_the_file(model_dir):
    doc = QuantizeDocument.open(model_dir)
    assert dominant_quantization(doc) == ("asymmetric_affine", "uint8")
    assert hybrid_args(model_dir, doc) == [
        "quantize", "--model", "mobilenet.json", "--model-data", "mobilenet.data",
        "--with-input-meta", "mobilenet_inputmeta.yml", "--hybrid",
        "--model-quantize", "mobilenet_uint8.quantize",
        "--quantizer", "asymmetric_affine", "--qtype", "uint8", "--iterations", "3",
        "--compute-entropy",
    ]
    assert "--iterations" not in hybrid_args(model_dir, doc, iterations=0)
    assert hybrid_args(model_dir, doc, iterations=7)[-3:-1] == ["--iterations", "7"]


def test_no_iterations_when_the_dataset_is_not_a_text_listing(model_dir):
    (model_dir.parent / "mobilenet_inputmeta.yml").write_text(
        "input_meta:\n  databases:\n  - path: data.h5\n    type: H5FS\n"
    )
    assert "--iterations" not in hybrid_args(model_dir, QuantizeDocument.open(model_dir))


def test_names_with_underscores_find_their_model(tmp_path):
    for name in ("my_net_v2.json", "my_net_v2.data", "my_net_v2_inputmeta.yml"):
        (tmp_path / name).write_text("{}")
    path = tmp_path / "my_net_v2_int16.quantize"
    path.write_text(v2_doc())
    assert hybrid_args(path, QuantizeDocument.open(path))[2] == "my_net_v2.json"


def test_missing_model_files_are_named(model_dir):
    (model_dir.parent / "mobilenet.data").unlink()
    (model_dir.parent / "mobilenet_inputmeta.yml").unlink()
    with pytest.raises(CommandError) as exc:
        hybrid_args(model_dir, QuantizeDocument.open(model_dir))
    assert "missing mobilenet.data, mobilenet_inputmeta.yml" in str(exc.value)


def test_printed_command_keeps_every_flag(model_dir):
    printed = (
        "+ /opt/acuity/bin/pegasus quantize --model mobilenet.json --model-data mobilenet.data "
        "--iterations 10 --batch-size 2 --device CPU --with-input-meta mobilenet_inputmeta.yml "
        "--rebuild-all --algorithm kl_divergence --divergence-nbins 2048 --MLE "
        "--model-quantize mobilenet_uint8.quantize --quantizer asymmetric_affine --qtype uint8"
    )
    prefix, args = from_printed_command(printed, model_dir)
    assert prefix == ["/opt/acuity/bin/pegasus"]
    assert args == [
        "quantize", "--model", "mobilenet.json", "--model-data", "mobilenet.data",
        "--iterations", "10", "--batch-size", "2", "--device", "CPU",
        "--with-input-meta", "mobilenet_inputmeta.yml", "--hybrid", "--algorithm", "kl_divergence",
        "--divergence-nbins", "2048", "--MLE", "--model-quantize", "mobilenet_uint8.quantize",
        "--quantizer", "asymmetric_affine", "--qtype", "uint8",
    ]


def test_printed_command_for_another_file_is_refused(model_dir):
    with pytest.raises(CommandError):
        from_printed_command("pegasus quantize --rebuild --model-quantize other.quantize",
                             model_dir)
    with pytest.raises(CommandError):
        from_printed_command("pegasus inference --model x.json", model_dir)


ESC = "\x1b"
LOG = [
    (f"{ESC}[33mW 07:01:06 Hybrid qtype 'dynamic_fixed_point-i8' could not be applied "
     f"for layer 'c2_6'{ESC}[0m",
     ("not-applied", "c2_6", "dynamic_fixed_point-i8")),
    ("W 07:01:06 Optimze quantization->qnt_insert_converter_layer error: 'NoneType' object "
     "is not subscriptable!",
     ("converter-error", None, None)),
    ("W 07:01:06 Unsupported quantizer 'int4' for layer 'c1_8'", ("unsupported", "c1_8", "int4")),
    # the engine's own wording (acuitylite 6.57.1): the qtype, bare, and no layer
    ("W 19:42:15 Unsupported quantizer : int4, insert converter layer maybe failed.",
     ("unsupported", "c1_8", "int4")),
    ("E 07:01:06 Something broke", ("error", None, None)),
    ("2026-11-26 18:13:29.914908: E external/local_xla/xla/stream_executor/cuda/"
     "cuda_fft.cc:485] Unable", None),
    ("I 07:01:06 Insert converter layer c2_6_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12",
     None),
]


@pytest.mark.parametrize("line, expected", LOG)
def test_log_failures(line, expected):
    failure = scan_line(line, {"c1_8": "int4", "c2_6": "dynamic_fixed_point-i8"})
    if expected is None:
        assert failure is None
    else:
        assert (failure.kind, failure.layer, failure.qtype) == expected
        assert ESC not in failure.message


def test_strip_ansi():
    assert strip_ansi(f"{ESC}[1;31mE 10:00:00 boom{ESC}[0m") == "E 10:00:00 boom"
    assert strip_ansi(f"{ESC}[32mI{ESC}[0m ok {ESC}[1;33m!{ESC}[0m") == "I ok !"
    assert strip_ansi("no escapes\there") == "no escapes\there"
