"""`quanted quantize`, `export`, `history`, `restore`, `report` without the engine: argument
lists, refusals, and the safety of the runs. The stand-in scripts here play a pegasus that
writes a given file or fails; the real engine's behaviour is in
tests/engine/test_workflow_engine.py."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.export import scan_export_line
from quanted.core.state.history import History
from tests.core.docs import v2_doc
from tests.core.model_folder import write_model_folder
from tests.step_cancel import cancel_once_started

PEGASUS = "/opt/acuity/bin/pegasus"
USER = ("customized_quantize_layers:\n  # keep: worst entropy\n"
        "  c2_6: float16  # mine\n  gone_3: float16\n")
ENGINE = "customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16\n"


@pytest.fixture
def model(tmp_path):
    return write_model_folder(tmp_path, ["c1_8", "c2_6"], ["a.npy", "b.npy", "c.npy"])


def stand_in(tmp_path, body: str) -> str:
    """A stand-in pegasus: a script running `body` with `sys` and `pathlib` imported."""
    script = tmp_path / "stand-in-pegasus"
    script.write_text(f"#!{sys.executable}\nimport sys, pathlib\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def writes(text: str, log: str = "I 10:00:00 Dump net quantize tensor table", status: int = 0):
    """Stand-in body: write `text` to the --model-quantize file and entropy.txt."""
    return (f"a = sys.argv\npathlib.Path(a[a.index('--model-quantize') + 1]).write_text({text!r})\n"
            "pathlib.Path('entropy.txt').write_text('@c1_8:out0, 0.5\\n')\n"
            f"print({log!r}, flush=True)\nsys.exit({status})")


def dry_run(capsys, *args: str) -> list[str]:
    assert main(["quantize", *args, "--pegasus", PEGASUS, "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 or "--compare" in args
    return shlex.split(lines[0])


BASE = [PEGASUS, "quantize", "--model", "m.json", "--model-data", "m.data",
        "--with-input-meta", "m_inputmeta.yml", "--rebuild", "--model-quantize",
        "m_uint8.quantize", "--quantizer", "asymmetric_affine", "--qtype", "uint8"]


def test_zero_config_command_from_the_model_folder(model, capsys):
    assert dry_run(capsys, str(model)) == BASE + ["--iterations", "3", "--compute-entropy"]
    assert dry_run(capsys, str(model.parent)) == BASE + ["--iterations", "3", "--compute-entropy"]


def test_kld_and_mle_pass_the_guides_options(model, capsys):
    assert dry_run(capsys, str(model), "--kld") == BASE + [
        "--iterations", "1", "--compute-entropy", "--algorithm", "kl_divergence",
        "--batch-size", "100", "--divergence-first-quantize-bits", "12"]
    assert dry_run(capsys, str(model), "--kld", "--mle", "--batch-size", "1", "--bits", "10")[-8:] \
        == ["--compute-entropy", "--algorithm", "kl_divergence", "--batch-size", "1",
            "--divergence-first-quantize-bits", "10", "--MLE"]


def test_postfix_qtype_quantizer_and_iterations(model, capsys):
    args = dry_run(capsys, str(model), "--qtype", "int16", "--quantizer", "dynamic_fixed_point",
                   "--postfix", "i16", "--iterations", "7")
    assert args[args.index("--model-quantize") + 1] == "m_i16.quantize"
    assert args[args.index("--quantizer") + 1] == "dynamic_fixed_point"
    assert args[args.index("--qtype") + 1] == "int16"
    assert args[args.index("--iterations") + 1] == "7"


def test_compare_dry_run_prints_both_commands(model, capsys):
    assert main(["quantize", str(model), "--compare", "--pegasus", PEGASUS, "--dry-run"]) == 0
    default, kld = capsys.readouterr().out.splitlines()
    assert "kl_divergence" not in default and "--algorithm kl_divergence" in kld


@pytest.mark.parametrize(("args", "message"), [
    (["--bits", "10"], "--bits is KL divergence's first-quantize bits: add --kld"),
    (["--iterations", "0"], "--iterations must be at least 1"),
    (["--quantizer", "magic"], "unknown quantizer 'magic'"),
    (["--postfix", "a/b"], "cannot be part of a file name"),
])
def test_bad_options_are_refused(model, capsys, args, message):
    assert main(["quantize", str(model), *args, "--pegasus", PEGASUS, "--dry-run"]) == 2
    assert message in capsys.readouterr().err


def test_the_hybrid_model_or_a_folder_of_many_models_is_not_quantized(model, capsys):
    hybrid = model.with_name("m_uint8.quantize.json")
    hybrid.write_text("{}")
    assert main(["quantize", str(hybrid), "--pegasus", PEGASUS, "--dry-run"]) == 2
    assert "quantize the imported NAME.json" in capsys.readouterr().err
    (model.parent / "n.json").write_text("{}")
    (model.parent / "n.data").write_text("")
    assert main(["quantize", str(model.parent), "--pegasus", PEGASUS, "--dry-run"]) == 2
    assert "cannot tell which model to quantize: m.json, n.json" in capsys.readouterr().err


def test_missing_model_files_are_named(model, capsys):
    (model.parent / "m.data").unlink()
    assert main(["quantize", str(model), "--pegasus", PEGASUS, "--dry-run"]) == 2
    assert "missing m.data" in capsys.readouterr().err


def test_rebuild_keeps_a_history_copy_and_carries_the_users_list_over(model, tmp_path, capsys):
    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(customized=USER))
    old = target.read_bytes()
    pegasus = stand_in(tmp_path, writes(v2_doc(customized=ENGINE)))
    assert main(["quantize", str(model), "--pegasus", pegasus]) == 0
    out = capsys.readouterr().out
    text = target.read_text()
    assert "  c1_8: dynamic_fixed_point-i16\n  # keep: worst entropy\n  c2_6: float16  # mine\n" \
        in text
    assert "not carried over: gone_3: float16 (no such layer in the new file)" in out
    copies = [e for e in History(target).entries() if e.kind == "before-quantize"]
    assert History(target).path_of(copies[0]).read_bytes() == old
    assert [e.kind for e in History(target).entries()][-1] == "quantize"


def test_fresh_keeps_the_engines_file(model, tmp_path, capsys):
    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(customized=USER))
    pegasus = stand_in(tmp_path, writes(v2_doc(customized=ENGINE)))
    assert main(["quantize", str(model), "--pegasus", pegasus, "--fresh"]) == 0
    assert target.read_text() == v2_doc(customized=ENGINE)


def test_a_failed_run_puts_the_old_file_back_and_hints_at_the_batch(model, tmp_path, capsys):
    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(customized=USER))
    (tmp_path / "entropy.txt").write_text("@c2_6:out0, 0.7\n")
    warning = ("W 10:00:00 The input size Flatten_3 of Reshape [100, 64, 1, 1] not equal "
               "requested size [1, 64], please check!!!")
    pegasus = stand_in(tmp_path, writes("garbage", log=warning, status=1))
    assert main(["quantize", str(model), "--pegasus", pegasus, "--kld"]) == 1
    err = capsys.readouterr().err
    assert "pegasus exited with status 1; restored m_uint8.quantize" in err
    assert "pass --batch-size 1" in err
    assert target.read_text() == v2_doc(customized=USER)
    assert (tmp_path / "entropy.txt").read_text() == "@c2_6:out0, 0.7\n"


def test_a_failed_first_run_leaves_no_partial_file(model, tmp_path, capsys):
    pegasus = stand_in(tmp_path, writes("half", status=2))
    assert main(["quantize", str(model), "--pegasus", pegasus, "--json"]) == 2
    result = json.loads(capsys.readouterr().out)
    assert "removed the partial m_uint8.quantize" in result["restored"]
    assert not (tmp_path / "m_uint8.quantize").exists()
    assert not (tmp_path / "entropy.txt").exists()


# -- export ---------------------------------------------------------------------------------

@pytest.fixture
def quantized(model, tmp_path):
    target = tmp_path / "m_uint8.quantize"
    # c1_8_to_i16: the converter layer hybrid_model() puts in the quantize.json.
    target.write_text(v2_doc(layers=("c1_8", "c2_6", "c1_8_to_i16"), customized=ENGINE))
    return target


def hybrid_model(quantized, age: int = 0):
    path = quantized.with_name(quantized.name + ".json")
    path.write_text('{"Layers": {"c1_8": {}, "c2_6": {}, "c1_8_to_i16": {}}}')
    stamp = quantized.stat().st_mtime_ns
    os.utime(path, ns=(stamp + age, stamp + age))
    return path


def export_args(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["export", *args, "--pegasus", PEGASUS, "--dry-run"])
    out, err = capsys.readouterr()
    return status, out, err


def test_export_before_the_hybrid_run_is_refused_unless_forced(quantized, capsys):
    status, _, err = export_args(capsys, str(quantized))
    assert status == 1
    assert "m_uint8.quantize.json does not exist: the hybrid run has not been made" in err
    status, out, err = export_args(capsys, str(quantized), "--force")
    assert status == 0 and "--model m.json " in out and "warning" in err


def test_export_uses_the_hybrid_model_and_the_default_folder(quantized, capsys):
    hybrid_model(quantized, age=10**9)
    status, out, _ = export_args(capsys, str(quantized))
    assert status == 0
    assert shlex.split(out) == [
        PEGASUS, "export", "ovxlib", "--model", "m_uint8.quantize.json", "--model-data", "m.data",
        "--model-quantize", "m_uint8.quantize", "--with-input-meta", "m_inputmeta.yml",
        "--dtype", "quantized", "--output-path", str(quantized.parent / "m_uint8_export" / "m")]


def test_export_after_editing_the_list_without_rerunning_is_refused(quantized, capsys):
    hybrid_model(quantized, age=-10**9)  # older than the file
    status, _, err = export_args(capsys, str(quantized))
    assert status == 1 and "is older than m_uint8.quantize" in err and "c1_8" in err


def test_export_into_a_folder_that_is_not_empty_is_refused(quantized, tmp_path, capsys):
    hybrid_model(quantized, age=10**9)
    out_dir = tmp_path / "case"
    out_dir.mkdir()
    (out_dir / "main.c").write_text("")
    status, _, err = export_args(capsys, str(quantized), "--output", str(out_dir))
    assert status == 1 and "is not an empty folder" in err
    assert export_args(capsys, str(quantized), "--output", str(out_dir), "--force")[0] == 0


@pytest.mark.parametrize(("line", "kind", "layer"), [
    ("E 10:00:00 Layer 'c2_6' dtype mismatch: DFP INT16, ASYM UINT8", "dtype-mismatch", "c2_6"),
    ("\x1b[31mE 10:00:00 Unsupported qtype int4 for @c1_8:out0\x1b[0m", "unsupported", "c1_8"),
    ("W 10:00:00 c2_6 not support bfloat16 on this target", "unsupported", "c2_6"),
    ("E 10:00:00 export failed", "error", None),
])
def test_export_log_problems_name_the_layer(line, kind, layer):
    problem = scan_export_line(line, {"c1_8", "c2_6"})
    assert problem is not None and (problem.kind, problem.layer) == (kind, layer)


# Lines the real exporter printed (acuitylite 6.57.1, captured; see
# tests/engine/test_export_errors_engine.py), colours included.
CONVERTER = "layer2/layer2.1/Add_output_0_12_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_44"
REAL = {"c1_8", CONVERTER, "layer3/layer3.0/conv2/Conv_output_0_7"}


@pytest.mark.parametrize(("line", "kind", "layer"), [
    (f"\x1b[36mD 09:22:40 Tensor @{CONVERTER}:out0 type: float32\x1b[0m", "not-quantized",
     CONVERTER),
    ("\x1b[33mW 09:19:24 Load file /tmp/wf-exp/corrupt/tinynet.data failed.\x1b[0m",
     "unreadable-input", None),
    ("\x1b[31mE 09:19:24 Exception:<class '_pickle.UnpicklingError'> Failed to interpret file "
     "<_io.BufferedReader name='/tmp/wf-exp/corrupt/tinynet.data'> as a pickle "
     "File:acuitynet.py Line:137\x1b[0m", "error", None),
    ("\x1b[31mE 09:20:29 please set correct target name in config file\x1b[0m", "error", None),
    ("\x1b[31mE 09:21:47 Exception:<class 'ValueError'> invalid literal for int() with base 10: "
     "'nt4' File:acuitynet.py Line:355\x1b[0m", "error", None),
    ("NotADirectoryError: [Errno 20] Not a directory: '/tmp/wf-exp/unwritable/afile/case'",
     "exception", None),
    ("acuitylib.acuityerror.AcuityError: ('please set correct target name in config file', "
     "None)", "exception", None),
])
def test_real_exporter_failures_are_recognised(line, kind, layer):
    problem = scan_export_line(line, REAL)
    assert problem is not None and (problem.kind, problem.layer) == (kind, layer)


@pytest.mark.parametrize("line", [
    "I 10:00:00 Save vx network source file to x/main.c",
    "\x1b[36mD 09:19:12 Tensor @layer3/layer3.0/conv2/Conv_output_0_7:out0 type: "
    "float32(fake asymmetric_affine)\x1b[0m",
    "\x1b[33mW 09:19:24 ----------------Error(1),Warning(1)----------------\x1b[0m",
    "Traceback (most recent call last):",
    '  File "acuitylib/acuitylog.py", line 260, in acuitylib.acuitylog.AcuityLog.e',
])
def test_ordinary_export_lines_are_not_problems(line):
    assert scan_export_line(line, REAL) is None


def test_a_float_export_expects_float32_tensors():
    line = f"D 09:22:40 Tensor @{CONVERTER}:out0 type: float32"
    assert scan_export_line(line, REAL, quantized=False) is None


def test_the_graph_tail_the_engine_leaves_in_float32_is_not_a_missing_entry():
    from quanted.core.engine.export import model_tail

    layers = {"conv_1": {"op": "convolution", "inputs": []},
              "conv_1_next_to_u8_5": {"op": "dataconvert", "inputs": ["@conv_1:out0"]},
              "output_1": {"op": "softmax", "inputs": ["@conv_1_next_to_u8_5:out0"]},
              "attach_output/out0_0": {"op": "output", "inputs": ["@output_1:out0"]}}
    assert model_tail(layers) == {"output_1", "attach_output/out0_0"}


def test_export_problems_in_the_log_are_exit_1(quantized, tmp_path, capsys):
    hybrid_model(quantized, age=10**9)
    pegasus = stand_in(tmp_path, "a = sys.argv\nout = pathlib.Path(a[a.index('--output-path') + 1])"
                                 "\nout.parent.mkdir(exist_ok=True)\n"
                                 "pathlib.Path(str(out) + '.export.data').write_text('x')\n"
                                 "print('E 10:00:00 c1_8_to_i16: DFP INT16, ASYM UINT8')")
    assert main(["export", str(quantized), "--pegasus", pegasus]) == 1
    err = capsys.readouterr().err
    assert "quanted: export: layer 'c1_8_to_i16': c1_8_to_i16: DFP INT16, ASYM UINT8" in err


def test_repeated_lines_the_graph_tail_and_a_traceback_tail_stand_in(quantized, tmp_path, capsys):
    """A stand-in exporter printing what the real one does: each tensor line twice (two passes
    over the graph), the model's output layer in float32, a traceback without an E line."""
    model = hybrid_model(quantized, age=10**9)
    model.write_text('{"Layers": {"c1_8": {}, "c2_6": {"op": "softmax", "inputs": ["@c1_8:out0"]},'
                     ' "out_9": {"op": "output", "inputs": ["@c2_6:out0"]}}}')
    lines = ["D 10:00:00 Tensor @c1_8:out0 type: float32"] * 2 + [
        "D 10:00:00 Tensor @c2_6:out0 type: float32", "D 10:00:00 Tensor @out_9:out0 type: float32",
        "Traceback (most recent call last):", "OSError: [Errno 28] No space left on device"]
    pegasus = stand_in(tmp_path, "a = sys.argv\nout = pathlib.Path(a[a.index('--output-path') + 1])"
                                 "\nout.parent.mkdir(exist_ok=True)\n"
                                 "pathlib.Path(str(out) + '.export.data').write_text('x')\n"
                                 f"print({chr(10).join(lines)!r})")
    assert main(["export", str(quantized), "--pegasus", pegasus, "--json", "--force"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["kind"], p["layer"]) for p in problems] == [("not-quantized", "c1_8"),
                                                          ("exception", None)]


# -- history, restore, report -------------------------------------------------------------

def test_history_json_restore_and_report(quantized, capsys):
    history = History(quantized)
    history.record("quantize", {"customized": {"c1_8": "dynamic_fixed_point-i16"},
                                "block": ENGINE, "algorithm": "normal"})
    history.record("verify", {"customized": {"c2_6": "float16"}, "iterations": 1, "summary": {
        "quantized": {"mean_cosine": 0.99, "min_cosine": 0.98, "top1_agree": 1, "count": 1,
                      "max_abs_error": 0.1}}})
    assert main(["history", str(quantized), "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [(a["id"], a["kind"], a["best"]) for a in items] == [("1", "quantize", False),
                                                                ("2", "verify", True)]
    assert {"id", "kind", "time", "customized"} <= set(items[0])
    assert main(["history", str(quantized)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[2].startswith("*") and "mean cosine 0.990000" in listing[2]
    assert main(["history", str(quantized), "--layers"]) == 0
    assert "        c2_6: float16\n" in capsys.readouterr().out
    assert main(["history", str(quantized), "--diff", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert "+ c2_6: float16" in out and "- c1_8: dynamic_fixed_point-i16" in out
    assert main(["restore", str(quantized), "2"]) == 0
    assert "customized_quantize_layers:\n  c2_6: float16\n" in quantized.read_text()
    assert main(["report", str(quantized)]) == 0
    report = capsys.readouterr().out
    assert "| `c2_6` | float16 | - | - | - | - | - |  |" in report
    assert "| quantized | 0.990000 | 0.980000 | 1/1 | 0.100000 |" in report
    assert main(["report", str(quantized), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("c2_6,float16,,,")
    assert main(["report", str(quantized), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["verify"]["same_list"] is True


def test_restore_of_an_unknown_or_impossible_attempt(quantized, capsys):
    History(quantized).record("hybrid", {"customized": {"nope_1": "float16"}})
    assert main(["restore", str(quantized), "5"]) == 1
    assert "no attempt '5'" in capsys.readouterr().err
    before = quantized.read_bytes()
    assert main(["restore", str(quantized), "1"]) == 1
    assert "not in this file any more (nope_1)" in capsys.readouterr().err
    assert quantized.read_bytes() == before


# -- the run screen's --rebuild -------------------------------------------------------------

def test_rebuild_plan_from_the_file_and_from_a_printed_hybrid_line(quantized):
    from quanted.core.engine.quantize import rebuild_plan

    zero_config = rebuild_plan(QuantizeDocument.open(quantized), PEGASUS)
    assert zero_config.command == [*BASE, "--iterations", "3", "--compute-entropy"]
    assert zero_config.quantize == quantized
    printed = ("pegasus quantize --model m.json --model-data m.data --with-input-meta "
               "m_inputmeta.yml --hybrid --model-quantize m_uint8.quantize --quantizer "
               "asymmetric_affine --qtype uint8 --algorithm kl_divergence --batch-size 1")
    from_line = rebuild_plan(QuantizeDocument.open(quantized), PEGASUS, printed)
    rebuild = printed.replace("--hybrid", "--rebuild")
    assert from_line.command == [PEGASUS, *shlex.split(rebuild)[1:]]
    assert from_line.options.kld and from_line.cwd == quantized.parent


def test_a_rebuild_marks_the_file_while_it_runs_and_a_left_marker_refuses_the_next(
        model, tmp_path, capsys):
    from quanted.core.state import recovery

    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(customized=USER))
    marker = tmp_path / ".quanted" / "in-progress.m_uint8.quantize.json"
    # The stand-in reports whether the marker exists while it runs.
    pegasus = stand_in(tmp_path, f"print('I 10:00:00 marker', pathlib.Path({str(marker)!r})"
                                 ".is_file(), flush=True)\n"
                       + writes(v2_doc(customized=ENGINE)))
    assert main(["quantize", str(model), "--pegasus", pegasus]) == 0
    assert "I 10:00:00 marker True" in capsys.readouterr().err  # the engine log: stderr
    assert recovery.pending(target) is None
    copy = History(target).path_of(History(target).entries()[0])  # the before-quantize copy
    recovery.mark(target, "quantize", copy, None, ["pegasus"])  # as a killed run leaves it
    before = target.read_bytes()
    assert main(["quantize", str(model), "--pegasus", pegasus]) == 1
    assert "quanted recover" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_a_cancelled_rebuild_puts_the_old_file_back(model, tmp_path):
    from quanted.core.engine import quantize

    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(customized=USER))
    before = target.read_bytes()
    # The stand-in truncates the file, says so, then waits to be stopped.
    pegasus = stand_in(tmp_path, "pathlib.Path('m_uint8.quantize').write_text('')\n"
                                 "print('I 10:00:00 Start quantization...', flush=True)\n"
                                 "import time\ntime.sleep(60)")
    the_plan = quantize.plan(model, quantize.QuantizeOptions(), pegasus)
    ended = cancel_once_started(quantize.run, the_plan,
                                lambda line: "Start quantization" in line, 30)
    result = ended.result
    assert ended.exit_code == 130 and result.cancelled and result.status == 130
    assert "the run was cancelled; restored m_uint8.quantize" in result.restored
    assert target.read_bytes() == before
