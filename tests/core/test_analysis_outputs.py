"""The analysis summary's per-output figures and what it measured, with the STAND-IN engine of
tests/core/analysis_standin.py on a two-output model: the figures are verify's functions
(output_figures.OutputFigures) on the model's own output dumps, survive the cache, and reach
`quanted analyze` (text and --json). The real engine, against `quanted verify`:
tests/engine/test_detect_engine.py."""

from __future__ import annotations

import json
import sys
import zlib

import numpy as np
import pytest

from quanted.cli.dispatch import main
from quanted.core.engine import analysis
from quanted.core.engine.output_figures import OutputFigures
from tests.core.analysis_standin import SHAPE
from tests.core.test_analysis_flow import LAYERS, STANDIN, plan, quantize_text
from tests.core.model_folder import write_model_folder

TWO = {**LAYERS, "attach_relu/out0_6": {"op": "output", "inputs": ["@conv_a_3:out0"],
                                         "outputs": ["out0"]}}
OUTPUTS = {"@attach_add/out0_5:out0": "add_4", "@attach_relu/out0_6:out0": "conv_a_3"}


def two_output_model(folder, monkeypatch):
    """The two-output model in `folder`, its engine the analysis STAND-IN; its .quantize."""
    write_model_folder(folder, TWO, ["in_0.npy", "in_1.npy"])
    for i in range(2):
        np.save(folder / f"in_{i}.npy", np.full((1, 2), i, dtype=np.float32))
    path = folder / "m_uint8.quantize"
    path.write_text(quantize_text())
    monkeypatch.setenv("QUANTED_PEGASUS", f"{sys.executable} {STANDIN}")
    return path


@pytest.fixture
def model(tmp_path, monkeypatch):
    return two_output_model(tmp_path, monkeypatch)


def _standin_values(source: str, i: int, step: float | None) -> np.ndarray:
    """What the stand-in dumps for an output reading `source` at input i (its own rule)."""
    values = np.random.default_rng(zlib.crc32(source.encode()) + i).normal(
        0.0, 2.0, size=SHAPE).astype(np.float32)
    return values if step is None else (np.round(values * step) / step).astype(np.float32)


def test_each_output_gets_verifys_figures_and_the_configuration_is_named(model):
    result = analysis.run(plan(model))
    assert list(result.outputs) == list(OUTPUTS)
    for tensor, source in OUTPUTS.items():
        f = [_standin_values(source, i, None) for i in range(2)]
        q = [_standin_values(source, i, 8.0) for i in range(2)]
        assert result.outputs[tensor] == OutputFigures.compared(tensor, "values", f, q)
        cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
               for a, b in ((x.ravel().astype(np.float64), y.ravel().astype(np.float64))
                            for x, y in zip(f, q))]
        assert result.outputs[tensor].min_cosine == pytest.approx(min(cos), abs=1e-9)
    assert result.configuration == "the file's table: plain, no layer raised"
    cached = analysis.load_current(model)
    assert cached is not None and cached.outputs == result.outputs
    assert cached.configuration == result.configuration


def test_a_raised_table_is_named_as_verify_names_it(model):
    plain = model.read_text()
    text = plain.replace("  '@add_4:out0':\n    qtype: u8\n    quantizer: asymmetric_affine",
                         "  '@add_4:out0':\n    qtype: i16\n    quantizer: dynamic_fixed_point")
    assert text != plain
    model.write_text(text)
    assert analysis.run(plan(model)).configuration == "the file's table: 1 layer(s) raised"


def test_cli_prints_the_per_output_table_and_the_configuration(model, capsys):
    assert main(["analyze", str(model)]) == 0
    out = capsys.readouterr().out
    summary = out[out.index("per output, quantized vs float over 2 input(s):"):].splitlines()
    assert summary[1].split() == ["OUTPUT", "KIND", "MIN", "COS", "SQNR", "dB", "MAX", "ABS",
                                  "ERR", "DISTINCT", "Q/F", "MIDDLE", "Q/F", "STEPS/MID"]
    assert [line.split()[0] for line in summary[2:4]] == list(OUTPUTS)
    assert summary[-1] == "quantized: the file's table: plain, no layer raised"
    assert main(["analyze", str(model), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["configuration"] == "the file's table: plain, no layer raised"
    assert list(data["outputs"]) == list(OUTPUTS)
    first = data["outputs"]["@attach_add/out0_5:out0"]
    assert first["kind"] == "values" and set(first["resolution"]) >= {"collapsed", "why"}
    assert OutputFigures.from_json(first) == analysis.load_current(model).outputs[
        "@attach_add/out0_5:out0"]


def test_an_analysis_without_output_dumps_still_has_its_layers(model, monkeypatch):
    def no_dumps(*args, **kwargs):
        from quanted.core.engine.outputs import OutputsError
        raise OutputsError("pegasus dumped no tensor for the model output(s)")

    monkeypatch.setattr(analysis, "compare_outputs", no_dumps)
    result = analysis.run(plan(model))
    assert result.outputs == {} and len(result.layers) == 4
