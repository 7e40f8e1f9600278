"""The analysis summary's per-output figures on the real engine, with the two-output detector
of tests/engine/build_detnet.py: equal to `quanted verify`'s on the same configuration (the
plain file, then after a hybrid run raised the score head: the hybrid model's outputs), and
to numpy on the engine's own output dumps of the analysis, to 1e-6; the analysis names the
configuration in verify's words.

Engine runs: import, inputmeta, quantize; analysis (2 inferences), verify (2); hybrid; analysis
(1: float reused), verify (3): 35 s on the shared 2-core machine, 2m15s under load."""

import json
import shlex
from pathlib import Path

import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis, verify
from quanted.core.engine.analysis_cache import AnalysisCache

from output_reference import assert_same, flat, npy_dumps, numpy_figures

pytestmark = pytest.mark.engine

BOXES, SCORES = "@attach_boxes/out0_0:out0", "@attach_scores/out0_1:out0"
INPUTS = 4


def _verify(path: Path, pegasus: list[str]) -> verify.VerifyResult:
    return verify.run(verify.plan(QuantizeDocument.open(path), shlex.join(pegasus), INPUTS))


def _analysis_and_dumps(path: Path, kept: Path) -> tuple[analysis.Analysis, Path, Path]:
    the_plan = analysis.plan(QuantizeDocument.open(path))
    found = analysis.run(the_plan, keep_dumps=kept)
    floats = AnalysisCache(found.file).float_dumps(the_plan.float_key)
    assert floats is not None
    return found, floats / "dumps", kept / analysis.QUANTIZED / "dumps"


def test_the_analysis_gives_each_output_verifys_figures_plain_and_after_a_hybrid_run(
        detnet, pegasus, tmp_path, capsys):
    found, float_dumps, quant_dumps = _analysis_and_dumps(detnet, tmp_path / "plain")
    result = _verify(detnet, pegasus)
    assert list(found.outputs) == result.tensors == [BOXES, SCORES]
    for tensor in result.tensors:
        assert_same(flat(found.outputs[tensor]), flat(result.outputs[tensor]))
        f, q = npy_dumps(float_dumps, tensor), npy_dumps(quant_dumps, tensor)
        assert len(f) == len(q) == INPUTS
        assert_same(flat(found.outputs[tensor]), numpy_figures(f, q))
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
        assert_same(flat(found.outputs[tensor]), flat(result.outputs[tensor]))
        assert_same(flat(found.outputs[tensor]), numpy_figures(npy_dumps(float_dumps, tensor),
                                                            npy_dumps(quant_dumps, tensor)))
    assert not found.outputs[SCORES].resolution.collapsed
    assert found.configuration == result.configuration == "the file's table: 2 layer(s) raised"

    # The CLI's summary: the same figures, from the cache (no engine run).
    assert main(["analyze", str(detnet), "--json", "--pegasus", shlex.join(pegasus)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["configuration"] == "the file's table: 2 layer(s) raised"
    assert data["outputs"][SCORES]["min_cosine"] == found.outputs[SCORES].min_cosine
