"""Every figure names its configuration, on the real engine and `sidenet` (the second
engine-made model, tests/engine/build_sidenet.py), quantized by `quanted quantize` as the guide
does (--rebuild --compute-entropy, calibration recorded): verify's plain row after a hybrid run
is the fresh file's verify, tune's plain trial is that figure too, and the list a hybrid run
applied is read from quantize_parameters. The whole tune story on the sample (fresh, after a
hybrid run, after a restore) is in tests/engine/test_tune_engine.py.

Engine runs: import, inputmeta, quantize (3), verify of the fresh file (2), hybrid (1), verify
(3), tune's rebuild of the plain table (1), its float run and the plain trial (3): 13."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline
from tests.engine.sidenet import imported

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
QUANTIZE = "sidenet_uint8.quantize"
I16 = "dynamic_fixed_point-i16"

pytestmark = pytest.mark.engine


def quanted(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quanted", *args], check=False,
                          capture_output=True, text=True, timeout=3600, cwd=REPO)


@pytest.fixture(scope="module")
def story(pegasus, tmp_path_factory):
    folder = imported(pegasus, tmp_path_factory.mktemp("figures"))
    engine = shlex.join(pegasus)
    made = quanted("quantize", str(folder / "sidenet.json"), "--pegasus", engine, "--json")
    assert made.returncode == 0, made.stderr[-3000:]
    path = folder / QUANTIZE
    steps = {"made": made, "base": baseline.load(path)}
    steps["fresh"] = quanted("verify", str(path), "--pegasus", engine, "--json", "--quiet")
    doc = QuantizeDocument.open(path)
    layers = [layer for layer in doc.layer_ids if "Conv" in layer][:2]
    with doc.batch():
        for old in list(doc.customized):
            doc.remove_layer(old)
        doc.set_layers({layer: I16 for layer in layers})
    doc.save()
    steps["hybrid"] = quanted("hybrid", str(path), "--pegasus", engine, "--json", "--quiet")
    steps["after"] = quanted("verify", str(path), "--pegasus", engine, "--json", "--quiet")
    # No .quanted/ at all (a file that came from elsewhere after a hybrid run): the tune
    # rebuilds the plain table first. Capped at one trial: the plain bound.
    shutil.rmtree(folder / ".quanted")
    steps["tune"] = quanted("tune", str(path), "--jobs", "1", "--pegasus", engine, "--json",
                            "--max-trials", "1", "--target-cosine", "0.9999999")
    return path, layers, steps


def _summary(run: subprocess.CompletedProcess, label: str) -> dict:
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)["summary"][label]


def test_quantize_records_the_base_and_its_calibration(story):
    _, _, steps = story
    assert steps["made"].returncode == 0
    base = steps["base"]
    assert base is not None and base.source == "made by `quanted quantize`"
    assert base.calibration.source == "recorded"
    assert base.calibration.compute_entropy
    assert base.calibration.value("--iterations") == "3"


def test_the_hybrid_run_applied_what_was_listed(story):
    path, layers, steps = story
    result = json.loads(steps["hybrid"].stdout)
    assert steps["hybrid"].returncode == 0, steps["hybrid"].stderr[-3000:]
    assert set(result["applied"]) == set(layers)
    assert result["not_applied"] == [] and result["raised_not_listed"] == []
    # the engine's own suggestions (written back with --compute-entropy) are not the list
    assert QuantizeDocument.open(path).customized == {layer: I16 for layer in layers}
    assert set(baseline.applied(QuantizeDocument.open(path))) == set(layers)


def test_verifys_plain_row_after_a_hybrid_run_is_the_fresh_files_figure(story):
    _, _, steps = story
    fresh = _summary(steps["fresh"], "quantized")
    plain = _summary(steps["after"], "plain_quantized")
    assert plain["min_cosine"] == pytest.approx(fresh["min_cosine"], abs=1e-6)
    assert plain["mean_cosine"] == pytest.approx(fresh["mean_cosine"], abs=1e-6)
    after = json.loads(steps["after"].stdout)
    assert after["configuration"] == "the file's table: 2 layer(s) raised"
    assert after["base"] == json.loads(steps["fresh"].stdout)["base"]


def test_tunes_plain_trial_is_the_plain_files_verify(story):
    _, _, steps = story
    fresh = _summary(steps["fresh"], "quantized")
    result = json.loads(steps["tune"].stdout)
    plain = result["trials"][0]
    assert plain["layers"] == [] and plain["applied"]
    assert plain["min_cosine"] == pytest.approx(fresh["min_cosine"], abs=1e-6)
    assert result["base"]["source"].startswith("rebuilt by quanted")
    assert "rebuilding the plain table" in steps["tune"].stderr
