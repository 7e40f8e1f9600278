"""`quanted tune` against the real engine (acuitylite 6.57.1) on the bundled sample, whose
plain uint8 model picks the wrong class on 3 of 4 inputs (sample_data/README.md), ranked with
`--rank drop` and no analysis cached, so the tune runs the analysis itself: it meets the
default target (min cosine 0.99 over the 4 inputs), an independent `quanted verify` of the
written file confirms the figure (and agrees with the tune's own trial of the set), every
single removal from the set was measured by the engine to miss the target, and the trial count
stays within the plan tune printed.

The file's own list is two layers (as after `quanted add` of the two worst by entropy) instead
of the engine's pre-filled seven: the search is the same (bounds, the bisection over all 37
candidates, pruning from the own list because it meets the target with fewer layers than the
shortest passing prefix), with two pruning trials (the Add alone, the conv alone). Engine
runs: the analysis (2), the float run, 10 trials of two runs, the final hybrid run and verify
(3), then one more verify: 28, against 37 when the test re-ran each removal itself. The
1-minimality check reads the tune's own trials of the set without each layer: those are the
runs a separate check would repeat (the same list, the same `quantize --hybrid` command, the
same quantized inference over the same inputs), and the verify comparison shows the trials
measure what `verify` measures."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from quanted.core.tune import rank

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DATA = REPO / "sample_data"
QUANTIZE = "tinynet_uint8.quantize"
INPUTS = 4
TARGET = 0.99
I16 = "dynamic_fixed_point-i16"
OWN_LIST = {"layer3/layer3.0/conv2/Conv_output_0_7": I16, "layer3/layer3.0/Add_output_0_6": I16}

pytestmark = pytest.mark.engine


def copy_sample(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for item in SAMPLE_DATA.iterdir():
        if item.is_file() and item.suffix != ".md":
            shutil.copy(item, folder / item.name)
    return folder / QUANTIZE


def quanted(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quanted", *args], check=False,
                          capture_output=True, text=True, timeout=3600, cwd=REPO)


@pytest.fixture(scope="module")
def tuned(pegasus, tmp_path_factory):
    path = copy_sample(tmp_path_factory.mktemp("tune") / "model")
    doc = QuantizeDocument.open(path)
    with doc.batch():
        for old in list(doc.customized):
            doc.remove_layer(old)
        doc.set_layers(OWN_LIST)
    doc.save()
    started = path.read_bytes()
    # --jobs fixed: its default follows free memory, and the search's sets follow --jobs
    run = quanted("tune", str(path), "--rank", "drop", "--jobs", "2", "--pegasus",
                  shlex.join(pegasus), "--json")
    return path, run, started


def test_rank_drop_runs_the_analysis_and_ranks_by_it(tuned):
    path, run, started = tuned
    assert run.returncode == 0, run.stderr[-4000:]
    assert "[ranking] analysing 38 layers (2 engine runs)" in run.stderr
    # cached where `quanted analyze` looks (stale now: the tune rewrote the file)
    found = analysis.load_latest(path)
    assert found is not None and found.iterations == INPUTS
    drops = rank.drops(found)
    assert len(drops) > 30
    ranking = rank.rank(QuantizeDocument(started, path), rank.DROP,
                        path.parent / "tinynet.json", drop=drops)
    # the bisection's first step raised the better half by that ranking
    half = ranking.layers[:len(ranking.layers) // 2]
    first = next(t for t in json.loads(run.stdout)["trials"] if t["phase"] == "bisect")
    assert set(first["layers"]) == set(half) | {
        c for layer in half for c in ranking.companions.get(layer, ())}


def test_tune_meets_the_target_within_its_plan(tuned):
    path, run, started = tuned
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout)
    assert result["met"] is True
    assert result["target"] == {"cosine": TARGET, "top1": False, "outputs": {}, "check": None}
    layers = result["layers"]
    assert 0 < len(layers) < 38
    trials = result["trials"]
    plain = trials[0]
    assert plain["layers"] == [] and plain["min_cosine"] < 0.5 and plain["applied"]
    assert not any(t["cached"] for t in trials)  # every figure here is an engine run
    most = int(re.search(r"trials in all, at most (\d+)", run.stderr)[1])
    assert len(trials) <= most
    assert "the file's own list (2 layers) meets the target" in run.stderr
    assert all(t["applied"] for t in trials if set(t["layers"]) <= set(layers))
    # the file's list is now the set found; each line new to it says why it is there
    doc = QuantizeDocument.open(path)
    assert doc.customized == layers
    original = QuantizeDocument(started, path).customized
    for layer in layers:
        if layer not in original:
            assert re.match(r"tune: drop=-?\d\.\d{4}, entropy=0\.", doc.comments()[layer])
    # and the folder holds the tuned model: every raised layer's output is i16 now
    qtypes = doc.tensor_qtypes()
    for layer in layers:
        assert qtypes[f"@{layer}:out0"] == ("dynamic_fixed_point", "i16")
    points = {p["count"]: p["min_cosine"] for p in result["points"]}
    assert points[len(layers)] >= TARGET


def test_an_independent_verify_confirms_the_figure(tuned, pegasus):
    path, run, _ = tuned
    assert run.returncode == 0
    check = quanted("verify", str(path), "--pegasus", shlex.join(pegasus), "--iterations",
                    str(INPUTS), "--json")
    assert check.returncode == 0, check.stderr[-3000:]
    summary = json.loads(check.stdout)["summary"]["quantized"]
    assert summary["count"] == INPUTS and summary["min_cosine"] >= TARGET
    # the tune's trial of the set measured the same model the same way
    result = json.loads(run.stdout)
    trial = next(t for t in result["trials"] if set(t["layers"]) == set(result["layers"]))
    # (to the 6th digit: trials run the command `quanted hybrid` runs, --compute-entropy too)
    assert trial["min_cosine"] == pytest.approx(summary["min_cosine"], abs=1e-6)


def test_the_set_is_1_minimal(tuned):
    path, run, _ = tuned
    assert run.returncode == 0
    result = json.loads(run.stdout)
    layers = set(result["layers"])
    groups = rank.ties(path.parent / "tinynet.json")  # raised only together: one unit
    units = {frozenset(next((g for g in groups if layer in g), [layer])) & layers
             for layer in layers}
    for unit in units:
        without = [t for t in result["trials"] if set(t["layers"]) == layers - unit]
        assert without, f"no engine run measured the set without {sorted(unit)}"
        assert without[0]["applied"] and without[0]["min_cosine"] < TARGET, unit


# -- the same figures whatever the file's history -------------------------------------------
# After the tune above the file's table raises the set (its hybrid run). A second tune, with the
# same options, measures from the same plain table and calibration, so every trial is the
# journal's and the set is the same; verify's plain row is the tune's plain trial; and after a
# `restore` of the list the tune started from, a third tune gives the same set again. Engine
# runs: verify (3), each re-tune's final hybrid and verify (4 + 4), the restore none.


@pytest.fixture(scope="module")
def retuned(tuned, pegasus):
    path, first, _ = tuned
    engine = shlex.join(pegasus)
    steps = {"first": first}
    steps["verify"] = quanted("verify", str(path), "--pegasus", engine, "--json", "--quiet")
    steps["second"] = quanted("tune", str(path), "--rank", "drop", "--jobs", "2", "--pegasus",
                              engine, "--json")
    # The list loses a layer the table still raises: check says so; then `restore` gives the
    # tuned list back (the tune's own attempt) and a third tune runs on that.
    doc = QuantizeDocument.open(path)
    steps["removed"] = next(iter(doc.customized))
    doc.remove_layer(steps["removed"])
    doc.save()
    steps["check"] = quanted("check", str(path))
    history = json.loads(quanted("history", str(path), "--json").stdout)
    tuned_attempt = [entry for entry in history if entry["kind"] == "tune"][-1]
    steps["restore"] = quanted("restore", str(path), str(tuned_attempt["id"]))
    steps["third"] = quanted("tune", str(path), "--rank", "drop", "--jobs", "2", "--pegasus",
                             engine, "--json")
    # The user's own next step: a zero-configuration hybrid run of the tuned file, verified.
    steps["hybrid"] = quanted("hybrid", str(path), "--pegasus", engine, "--json", "--quiet")
    steps["final"] = quanted("verify", str(path), "--pegasus", engine, "--json", "--quiet")
    return path, steps


def test_a_second_tune_after_the_hybrid_run_reuses_every_trial_and_finds_the_same_set(
        retuned):
    _, steps = retuned
    first, second = (json.loads(steps[name].stdout) for name in ("first", "second"))
    assert steps["second"].returncode == 0, steps["second"].stderr[-4000:]
    assert second["layers"] == first["layers"]
    assert second["trials"] and all(t["cached"] for t in second["trials"])
    assert second["trials"][0]["min_cosine"] == first["trials"][0]["min_cosine"]
    assert second["base"] == first["base"]


def test_verifys_plain_row_is_tunes_plain_trial(retuned):
    _, steps = retuned
    assert steps["verify"].returncode == 0, steps["verify"].stderr[-3000:]
    verified = json.loads(steps["verify"].stdout)
    plain = verified["summary"]["plain_quantized"]
    first = json.loads(steps["first"].stdout)
    assert first["trials"][0]["layers"] == []
    assert plain["min_cosine"] == pytest.approx(first["trials"][0]["min_cosine"], abs=1e-6)
    assert verified["base"] == first["base"]["key"]


def test_check_warns_when_a_raised_layer_leaves_the_list(retuned):
    _, steps = retuned
    assert steps["check"].returncode == 1
    assert f"warning: layer '{steps['removed']}' is raised (dynamic_fixed_point-i16) in " \
        "quantize_parameters but not in customized_quantize_layers" in steps["check"].stdout


def test_after_a_restore_the_tune_finds_the_same_set(retuned):
    _, steps = retuned
    assert steps["restore"].returncode == 0, steps["restore"].stderr[-3000:]
    assert steps["third"].returncode == 0, steps["third"].stderr[-4000:]
    first, third = (json.loads(steps[name].stdout) for name in ("first", "third"))
    assert third["layers"] == first["layers"]
    assert all(t["cached"] for t in third["trials"])


def test_the_tuned_file_rerun_by_quanted_hybrid_verifies_at_the_tunes_figure(retuned):
    _, steps = retuned
    assert steps["hybrid"].returncode == 0, steps["hybrid"].stderr[-3000:]
    assert steps["final"].returncode == 0, steps["final"].stderr[-3000:]
    result = json.loads(steps["first"].stdout)
    trial = next(t for t in result["trials"] if set(t["layers"]) == set(result["layers"]))
    summary = json.loads(steps["final"].stdout)["summary"]["quantized"]
    assert summary["min_cosine"] == pytest.approx(trial["min_cosine"], abs=1e-6)
    assert summary["min_cosine"] >= TARGET
    ran = json.loads(steps["hybrid"].stdout)
    assert set(ran["applied"]) >= set(result["layers"]) and ran["not_applied"] == []
