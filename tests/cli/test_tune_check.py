"""`quanted tune --check` and per-output targets against the tune STAND-IN for pegasus
(tests/cli/tune_stand_in.py: the cosine is a known function of the raised set): the user's
check decides alone, its verdicts are recorded and reused, a broken check is an error."""

from __future__ import annotations

import sys

import pytest

from quanted.cli import main
from tests.cli.test_tune_stand_in import CONV2, NON_MONOTONIC, PAIRS, PEGASUS, calls, \
    configure, make_model, tune, worst

# Accepts a trial when the cosine of the first output is at least 0.75 on every input.
CHECK = """import json, pathlib, sys
import numpy as np
float_dir, quant_dir = map(pathlib.Path, sys.argv[-2:])
described = json.loads((float_dir / "outputs.json").read_text())
name = described["outputs"][0]["file"]
worst = 1.0
for i in range(described["inputs"]):
    f = np.load(float_dir / str(i) / (name + ".npy")).ravel().astype(float)
    q = np.load(quant_dir / str(i) / (name + ".npy")).ravel().astype(float)
    assert f.shape == (10,)
    worst = min(worst, float(f @ q / np.linalg.norm(f) / np.linalg.norm(q)))
print(f"metric={worst}")
sys.exit(0 if worst >= float(sys.argv[1]) else 1)
"""


@pytest.fixture
def model(tmp_path, monkeypatch):
    return make_model(tmp_path, monkeypatch)


@pytest.fixture
def check(tmp_path):
    script = tmp_path / "check.py"
    script.write_text(CHECK)
    return f"{sys.executable} {script} 0.75"


def test_with_check_and_no_cosine_target_only_the_check_decides(model, monkeypatch, capsys,
                                                                 check):
    conf = configure(model, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS)
    code, result, err = tune(model, capsys, "--check", check)
    assert code == 0 and result["met"] is True
    assert result["target"] == {"cosine": None, "top1": False, "outputs": {}, "check": check}
    assert set(result["layers"]) == {CONV2}  # 0.797 >= 0.75; the default 0.99 would need 2
    assert worst({CONV2}, conf) < 0.99
    for trial in result["trials"]:
        assert trial["check"]["acceptable"] == (worst(trial["layers"], conf) >= 0.75)
        assert trial["check"]["metric"] == pytest.approx(worst(trial["layers"], conf), abs=1e-6)
        assert list(trial["outputs"]) == ["@attach_output/out0_0:out0"]
    assert "the check `" in err
    assert list((model.parent.parent / "tmp").iterdir()) == []  # check folders are gone


def test_operating_points_carry_the_checks_verdict_and_metric(model, monkeypatch, capsys,
                                                               check):
    """Each point of `--json` and of the report: the best worst cosine at a count, with the
    check's verdict and metric on that same trial."""
    conf = configure(model, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS)
    code, result, _ = tune(model, capsys, "--check", check)
    assert code == 0
    best: dict[int, dict] = {}
    for trial in result["trials"]:
        count = len(trial["layers"])
        if trial["applied"] and (count not in best
                                 or trial["min_cosine"] > best[count]["min_cosine"]):
            best[count] = trial
    assert result["points"] == [
        {"count": count, "min_cosine": t["min_cosine"], "acceptable": t["check"]["acceptable"],
         "metric": t["check"]["metric"]} for count, t in sorted(best.items())]
    assert result["points"][0]["acceptable"] is False  # plain: 0.497 < 0.75
    # The report (every trial reused from the journal) says it beside each point.
    assert main(["tune", str(model), "--pegasus", PEGASUS, "--jobs", "1", "--check",
                 check]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("operating points (layers raised: best worst-cosine measured; the "
                        "check on that trial):")
    first = result["points"][0]
    assert lines[start + 1] == (f"  {0:4d}: {first['min_cosine']:.6f}  NOT acceptable, "
                                f"metric={first['metric']:g}")
    assert worst(best[1]["layers"], conf) == pytest.approx(best[1]["min_cosine"], abs=1e-6)


def test_check_verdicts_are_recorded_and_reused_for_the_same_command(model, monkeypatch,
                                                                     capsys, check):
    configure(model, monkeypatch, weights={CONV2: 0.1})  # the check can never accept
    code, first, _ = tune(model, capsys, "--check", check)
    assert code == 1 and first["met"] is False
    assert not any(t["check"]["acceptable"] for t in first["trials"])
    engine = len(calls(model))
    code, again, _ = tune(model, capsys, "--check", check)
    assert code == 1 and all(t["cached"] for t in again["trials"])
    assert len(calls(model)) == engine
    # another command has not judged them: they run again (and so do trials made without one)
    code, other, err = tune(model, capsys, "--check", check.replace("0.75", "0.7"))
    assert code == 1 and not any(t["cached"] for t in other["trials"])
    assert len(calls(model)) > engine
    assert "the check finds it not acceptable (metric=0.5" in err


def test_a_target_for_one_output_by_name_or_index(model, monkeypatch, capsys):
    configure(model, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS)
    code, result, _ = tune(model, capsys, "--target-cosine", "attach_output/out0_0=0.75")
    assert code == 0 and set(result["layers"]) == {CONV2}
    assert result["target"]["outputs"] == {"attach_output/out0_0": 0.75}
    assert result["target"]["cosine"] is None
    code, by_index, _ = tune(model, capsys, "--target-cosine", "0=0.75")
    assert code == 0 and by_index["layers"] == result["layers"]
    # a bare C beside it still holds for every output
    code, both, _ = tune(model, capsys, "--target-cosine", "0=0.75", "--target-cosine", "0.99")
    assert code == 0 and len(both["layers"]) == 2


@pytest.mark.parametrize("args, message", [
    (["--target-cosine", "boxes=0.9"], "no model output 'boxes'"),
    (["--target-cosine", "0=high"], "--target-cosine takes C or NAME=C"),
    (["--target-cosine", "0=1.5"], "between -1 and 1"),
    (["--check", "'unclosed"], "split like a shell"),
])
def test_bad_targets_are_refused_before_any_trial(model, monkeypatch, capsys, args, message):
    configure(model, monkeypatch)
    assert main(["tune", str(model), "--pegasus", "unused", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_broken_check_is_an_error_not_a_miss(model, monkeypatch, capsys):
    configure(model, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS)
    before = model.read_bytes()
    code = main(["tune", str(model), "--pegasus", PEGASUS, "--json",
                 "--check", f"{sys.executable} -c 'import sys; sys.exit(7)'"])
    out, err = capsys.readouterr()
    assert code == 2 and "the check exited with status 7" in err
    assert out == "" and model.read_bytes() == before  # no report, nothing written
