"""analysis.run's flow with a STAND-IN engine (tests/core/analysis_standin.py): cache keys,
float reuse, stale detection, the hybrid model, failures and cancel. The real engine:
tests/engine/test_analysis_engine.py."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from quanted.core.engine.step import Cancel, Events
from tests.core.model_folder import write_model_folder

STANDIN = Path(__file__).with_name("analysis_standin.py")
LAYERS = {
    "input_1": {"op": "input", "inputs": [], "outputs": ["out0"]},
    "conv/a_2": {"op": "convolution", "inputs": ["@input_1:out0"], "outputs": ["out0"]},
    "conv_a_3": {"op": "relu", "inputs": ["@conv/a_2:out0"], "outputs": ["out0"]},
    "add_4": {"op": "add", "inputs": ["@conv_a_3:out0", "@input_1:out0"], "outputs": ["out0"]},
    "attach_add/out0_5": {"op": "output", "inputs": ["@add_4:out0"], "outputs": ["out0"]},
}


def tensor(key: str, low: float = -4.0, high: float = 4.0) -> str:
    return (f"  '{key}':\n    qtype: u8\n    quantizer: asymmetric_affine\n    rounding: rtne\n"
            f"    max_value: {high}\n    min_value: {low}\n    scale: 0.03\n    zero_point: 128\n")


def quantize_text(customized: str = "customized_quantize_layers: {}\n") -> str:
    return ("version: 2\nquantize_parameters:\n" + tensor("@input_1:out0")
            + tensor("@conv/a_2:out0", 0.0, 3.0) + tensor("@conv/a_2:weight")
            + tensor("@conv_a_3:out0", 0.0, 3.0) + tensor("@add_4:out0") + customized
            + "stable_quantize_tensors: {}\n")


def standin_model(folder: Path) -> Path:
    """The stand-in engine's model in `folder`, with its two inputs; returns its .quantize."""
    write_model_folder(folder, LAYERS, ["in_0.npy", "in_1.npy"], data=b"\x00weights")
    for i in range(2):
        np.save(folder / f"in_{i}.npy", np.full((1, 2), i, dtype=np.float32))
    path = folder / "m_uint8.quantize"
    path.write_text(quantize_text())
    return path


@pytest.fixture
def model(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    path = standin_model(folder)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("STANDIN_LOG", str(log))
    monkeypatch.setenv("QUANTED_PEGASUS", f"{sys.executable} {STANDIN}")
    temp = tmp_path / "systemp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return path


def plan(path: Path, iterations: int | None = None) -> analysis.AnalysisPlan:
    return analysis.plan(QuantizeDocument.open(path), iterations)


def calls(path: Path) -> list[str]:
    log = path.parent.parent / "calls.log"
    return log.read_text().splitlines() if log.is_file() else []


def test_first_run_two_engine_runs_figures_and_nothing_left_behind(model):
    progress = []
    lines = []
    result = analysis.run(plan(model), Events(line=lines.append, progress=progress.append))
    assert len(calls(model)) == 2 and result.engine_runs == 2 and result.iterations == 2
    assert [(p.label, p.input) for p in progress] == [
        ("float", 0), ("float", 1), ("float", 2), ("quantized", 0), ("quantized", 1),
        ("quantized", 2)]
    assert any("Save tensor" in line for line in lines)
    figures = result.by_layer()
    assert set(figures) == {"input_1", "conv/a_2", "conv_a_3", "add_4"}
    conv = figures["conv/a_2"]
    assert conv.clamped and conv.clamp_range == (0.0, 3.0) and conv.clamp_source == "min_max"
    assert not figures["add_4"].clamped and not figures["conv_a_3"].clamped
    assert conv.cosine != conv.cosine_raw
    assert figures["input_1"].drop == pytest.approx(1.0 - figures["input_1"].cosine)
    assert figures["conv_a_3"].drop == pytest.approx(conv.cosine - figures["conv_a_3"].cosine)
    assert figures["add_4"].drop == pytest.approx(
        min(figures["conv_a_3"].cosine, figures["input_1"].cosine) - figures["add_4"].cosine)
    assert figures["add_4"].producers == ["conv_a_3", "input_1"]
    assert sorted(p.name for p in model.parent.iterdir()) == sorted(
        [".quanted", "dataset.txt", "in_0.npy", "in_1.npy", "m.data", "m.json",
         "m_inputmeta.yml", "m_uint8.quantize"])
    assert list(Path(tempfile.gettempdir()).iterdir()) == []


def test_cache_unchanged_edit_and_input_change(model):
    first = analysis.run(plan(model))
    again = analysis.run(plan(model))
    assert len(calls(model)) == 2 and again.engine_runs == 0
    assert again.by_layer()["add_4"].cosine == first.by_layer()["add_4"].cosine
    assert analysis.load_current(model) is not None

    doc = QuantizeDocument.open(model)
    doc.set_layer("conv/a_2", "dynamic_fixed_point-i16")
    doc.save()
    stale = analysis.load_latest(model)
    assert stale is not None and not stale.current and stale.key == first.key
    assert analysis.load_current(model) is None
    edited = analysis.run(plan(model))
    new = calls(model)[2:]
    assert len(new) == 1 and "--dtype quantized" in new[0]
    assert edited.by_layer()["conv/a_2"].cosine_raw > first.by_layer()["conv/a_2"].cosine_raw

    np.save(model.parent / "in_1.npy", np.full((1, 2), 7, dtype=np.float32))
    assert analysis.load_current(model) is None
    analysis.run(plan(model))
    assert len(calls(model)) == 5  # a new input: float and quantized again
    analysis.run(plan(model, iterations=1))
    assert len(calls(model)) == 7  # another N is another key


def test_hybrid_model_is_used_when_the_file_holds_its_converters(model):
    hybrid = json.loads(json.dumps({"Layers": LAYERS}))
    hybrid["Layers"]["conv_a_3_pre_cvt_6"] = {"op": "dataconvert", "inputs": ["@conv_a_3:out0"],
                                             "outputs": ["out0"]}
    hybrid["Layers"]["add_4"]["inputs"][0] = "@conv_a_3_pre_cvt_6:out0"
    (model.parent / "m_uint8.quantize.json").write_text(json.dumps(hybrid))
    plain = plan(model)
    assert plain.model.name == "m.json"  # the file has no converter tensor: not that model
    model.write_text(quantize_text().replace(
        "customized_quantize_layers", tensor("@conv_a_3_pre_cvt_6:out0")[:-1]
        + "\ncustomized_quantize_layers", 1))
    assert plan(model).model.name == "m_uint8.quantize.json"
    result = analysis.run(plan(model))
    figures = result.by_layer()
    assert figures["conv_a_3_pre_cvt_6"].converter
    assert not figures["conv_a_3"].converter
    assert figures["add_4"].producers == ["conv_a_3_pre_cvt_6", "input_1"]


def test_a_failing_run_names_the_run_and_exits_with_its_status(model, monkeypatch, capsys):
    monkeypatch.setenv("STANDIN_MODE", "fail")
    with pytest.raises(analysis.AnalysisFailed) as caught:
        analysis.run(plan(model))
    assert caught.value.exit_code == 3 and caught.value.run.label == "float"
    assert any("stand-in failure" in line for line in caught.value.tail)
    assert main(["analyze", str(model)]) == 3
    err = capsys.readouterr().err
    assert "float32 run failed with status 3" in err and "stand-in failure" in err
    assert list(Path(tempfile.gettempdir()).iterdir()) == []


def test_cancel_stops_the_engine(model, monkeypatch):
    monkeypatch.setenv("STANDIN_MODE", "hang")
    cancel = Cancel()
    with pytest.raises(analysis.AnalysisCancelled) as caught:
        analysis.run(plan(model), Events(line=lambda line: cancel.cancel()), cancel)
    assert caught.value.exit_code == 130
    assert len(calls(model)) == 1  # the quantized run never started
    assert list(Path(tempfile.gettempdir()).iterdir()) == []


def test_cli_uses_the_cache_and_layers_gains_columns(model, capsys):
    assert main(["layers", str(model), "--json"]) == 0
    assert all("cosine" not in row for row in json.loads(capsys.readouterr().out))
    assert main(["analyze", str(model), "--json", "--sort", "cosine"]) == 0
    data = json.loads(capsys.readouterr().out)
    cosines = [row["cosine"] for row in data["layers"]]
    assert cosines == sorted(cosines) and data["iterations"] == 2
    assert main(["analyze", str(model)]) == 0
    captured = capsys.readouterr()
    assert "no engine run" in captured.err and captured.out.startswith("LAYER")
    assert len(calls(model)) == 2
    assert main(["layers", str(model)]) == 0
    assert "COSINE" in capsys.readouterr().out.splitlines()[0]
    assert main(["analyze", str(model), "--iterations", "0"]) == 1
    capsys.readouterr()
    doc = QuantizeDocument.open(model)
    doc.set_layer("add_4", "dynamic_fixed_point-i16")
    doc.save()
    assert main(["layers", str(model)]) == 0
    captured = capsys.readouterr()
    assert "COSINE" not in captured.out and "is stale" in captured.err


def test_results_kept_are_the_newest_ones(tmp_path, monkeypatch):
    from quanted.core.engine import analysis_cache

    monkeypatch.setattr(analysis_cache, "KEEP_RESULTS", 2)
    store = analysis_cache.AnalysisCache(tmp_path / "m_uint8.quantize")
    for i in range(4):
        store.store_result(f"{i}" * 64, {"key": f"{i}" * 64, "time": f"2026-01-0{i + 1}"})
    assert store.latest_result() == {"key": "3" * 64, "time": "2026-01-04"}
    assert store.load_result("3" * 64) is not None and store.load_result("2" * 64) is not None
    assert store.load_result("1" * 64) is None and store.load_result("0" * 64) is None


def test_age_text():
    from quanted.core.engine.analysis import age_text

    assert [age_text(s) for s in (3, 61, 7300, 200000)] == ["3 s", "1 min", "2 h", "2 d"]


def test_a_float_run_stored_twice_keeps_the_first(tmp_path):
    from quanted.core.engine.analysis_cache import AnalysisCache

    store = AnalysisCache(tmp_path / "m_uint8.quantize")
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "probes.json").write_text(name)
    kept = store.store_float("k" * 64, tmp_path / "first")
    again = store.store_float("k" * 64, tmp_path / "second")  # a concurrent analysis, later
    assert again == kept and (kept / "probes.json").read_text() == "first"
    assert [p.name for p in store.folder.iterdir()] == [kept.name]


def test_tensorflow_start_up_lines_are_hidden_and_kept_in_the_log(model, monkeypatch, capsys):
    """The stand-in prints acuitylite's recorded TensorFlow lines first, as the engine does."""
    from tests.core.analysis_standin import TF_START_UP

    assert main(["analyze", str(model)]) == 0
    err = capsys.readouterr().err
    assert "Start inference" in err and "external/local_xla" not in err
    assert "TensorFlow start-up lines hidden" in err.splitlines()[-1]
    logs = list((model.parent / ".quanted" / "logs").glob("*.analyze.log"))
    assert len(logs) == 1 and TF_START_UP[0] in logs[0].read_text()
    model.write_text(quantize_text("customized_quantize_layers:\n  add_4: float16\n"))
    monkeypatch.setenv("STANDIN_MODE", "fail")
    assert main(["analyze", str(model)]) == 3
    err = capsys.readouterr().err
    assert "stand-in failure" in err and "external/local_xla" not in err  # nor in the tail
