"""The analysis summary's per-output figures on the real engine, with the two-output detector
of tests/engine/build_detnet.py: equal to `quanted verify`'s on the same configuration (the
plain file, then after a hybrid run raised the score head: the hybrid model's outputs), and
to numpy on the engine's own output dumps of the analysis, to 1e-6; the analysis names the
configuration in verify's words.

Engine runs: import, inputmeta, quantize; analysis (2 inferences), verify (2); hybrid; analysis
(1: float reused), verify (3): 35 s on the shared 2-core machine, 2m15s under load."""

import json
import math
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis, verify
from quanted.core.engine.analysis_cache import AnalysisCache

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent
BOXES, SCORES = "@attach_boxes/out0_0:out0", "@attach_scores/out0_1:out0"
STEMS = {BOXES: "attach_boxes_out0_0_out0", SCORES: "attach_scores_out0_1_out0"}
INPUTS = 4
TOL = 1e-6


def _engine(pegasus, args, cwd):
    proc = subprocess.run(pegasus + args, cwd=cwd, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.fixture(scope="module")
def detnet(pegasus, tmp_path_factory):
    python = Path(pegasus[0]).with_name("python")
    if not python.is_file():
        pytest.skip("needs the engine environment's python to build detnet.onnx")
    folder = tmp_path_factory.mktemp("detnet")
    subprocess.run([str(python), str(HERE / "build_detnet.py"), str(folder)], check=True,
                   timeout=300)
    _engine(pegasus, ["import", "onnx", "--model", "detnet.onnx", "--output-model",
                      "detnet.json", "--output-data", "detnet.data"], folder)
    _engine(pegasus, ["generate", "inputmeta", "--model", "detnet.json",
                      "--input-meta-output", "detnet_inputmeta.yml"], folder)
    _engine(pegasus, ["quantize", "--model", "detnet.json", "--model-data", "detnet.data",
                      "--with-input-meta", "detnet_inputmeta.yml", "--rebuild",
                      "--compute-entropy", "--model-quantize", "detnet_uint8.quantize",
                      "--quantizer", "asymmetric_affine", "--qtype", "uint8", "--iterations",
                      str(INPUTS)], folder)
    return folder / "detnet_uint8.quantize"


def _npy_dumps(folder: Path, tensor: str) -> list[np.ndarray]:
    """The engine's `.npy` dumps of one model output in an analysis run's folder, by input,
    read with numpy alone."""
    found = {}
    for path in folder.glob(f"iter_*_{STEMS[tensor]}_*.npy"):
        if not path.name.endswith(".qnt.npy"):
            found[int(path.name.split("_")[1])] = np.load(path).astype(np.float64).ravel()
    return [found[i] for i in sorted(found)]


def _numpy_figures(f: list[np.ndarray], q: list[np.ndarray]) -> dict:
    cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(f, q)]
    fa, qa = np.concatenate(f), np.concatenate(q)
    unique = np.unique(qa)
    low, high = np.percentile(fa, [25, 75])
    middle = (fa >= low) & (fa <= high)
    return {"min_cosine": min(cos), "mean_cosine": sum(cos) / len(cos),
            "sqnr_db": 10 * math.log10(float(np.sum(fa ** 2)) / float(np.sum((fa - qa) ** 2))),
            "max_abs_error": float(np.max(np.abs(fa - qa))),
            "distinct_float": np.unique(fa).size, "distinct_quantized": unique.size,
            "middle_quantized": np.unique(qa[middle]).size,
            "step": float(np.min(np.diff(unique)))}


def _flat(figures) -> dict:
    r = figures.resolution
    return {"kind": figures.kind, "count": figures.count, "min_cosine": figures.min_cosine,
            "mean_cosine": figures.mean_cosine, "sqnr_db": figures.sqnr_db,
            "max_abs_error": figures.max_abs_error, "distinct_float": r.distinct_float,
            "distinct_quantized": r.distinct_quantized, "middle_float": r.middle_float,
            "middle_quantized": r.middle_quantized, "step": r.step, "spread": r.spread,
            "levels": r.levels, "collapsed": r.collapsed}


def _same(got: dict, want: dict) -> None:
    for name, value in want.items():
        if isinstance(value, (bool, str)):
            assert got[name] == value, name
        else:
            assert got[name] == pytest.approx(value, abs=TOL, rel=TOL), name


def _verify(path: Path, pegasus: list[str]) -> verify.VerifyResult:
    return verify.run(verify.plan(QuantizeDocument.open(path), shlex.join(pegasus), INPUTS))


def _analysis_and_dumps(path: Path, kept: Path) -> tuple[analysis.Analysis, Path, Path]:
    found = analysis.run(path, keep_dumps=kept)
    floats = AnalysisCache(found.file).float_dumps(analysis.plan(path).float_key)
    assert floats is not None
    return found, floats / "dumps", kept / analysis.QUANTIZED / "dumps"


def test_the_analysis_gives_each_output_verifys_figures_plain_and_after_a_hybrid_run(
        detnet, pegasus, tmp_path, capsys):
    found, float_dumps, quant_dumps = _analysis_and_dumps(detnet, tmp_path / "plain")
    result = _verify(detnet, pegasus)
    assert list(found.outputs) == result.tensors == [BOXES, SCORES]
    for tensor in result.tensors:
        _same(_flat(found.outputs[tensor]), _flat(result.outputs[tensor]))
        f, q = _npy_dumps(float_dumps, tensor), _npy_dumps(quant_dumps, tensor)
        assert len(f) == len(q) == INPUTS
        _same(_flat(found.outputs[tensor]), _numpy_figures(f, q))
    assert found.outputs[SCORES].resolution.collapsed  # the two -300 anchors, as verify sees
    assert found.configuration == result.configuration == \
        "the file's table: plain, no layer raised"

    # The engine's own list (the score head's Add and its output) raised by a hybrid run: the
    # analysis runs the hybrid model, whose outputs are the same layers.
    assert main(["hybrid", str(detnet), "--pegasus", shlex.join(pegasus), "--quiet"]) == 0
    capsys.readouterr()
    found, float_dumps, quant_dumps = _analysis_and_dumps(detnet, tmp_path / "hybrid")
    assert found.engine_runs == 1 and found.model.name.endswith(".quantize.json")
    result = _verify(detnet, pegasus)
    for tensor in result.tensors:
        _same(_flat(found.outputs[tensor]), _flat(result.outputs[tensor]))
        _same(_flat(found.outputs[tensor]), _numpy_figures(_npy_dumps(float_dumps, tensor),
                                                            _npy_dumps(quant_dumps, tensor)))
    assert not found.outputs[SCORES].resolution.collapsed
    assert found.configuration == result.configuration == "the file's table: 2 layer(s) raised"

    # The CLI's summary: the same figures, from the cache (no engine run).
    assert main(["analyze", str(detnet), "--json", "--pegasus", shlex.join(pegasus)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["configuration"] == "the file's table: 2 layer(s) raised"
    assert data["outputs"][SCORES]["min_cosine"] == found.outputs[SCORES].min_cosine
