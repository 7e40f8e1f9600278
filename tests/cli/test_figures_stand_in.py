"""Every engine figure names the configuration it measures, whatever the file's history:
against a STAND-IN for pegasus (tests/cli/tune_stand_in.py) that behaves as the engine was
measured to (a --hybrid run keeps layers an earlier run raised; with --compute-entropy it
appends its own suggestions to the list it writes back and does not apply them). The real
engine is in tests/engine/test_figures_engine.py."""

from __future__ import annotations

import json
import re

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import attempts, baseline
from quanted.core.engine.calibration import INFERRED
from tests.cli import tune_stand_in
from tests.cli.test_tune_stand_in import ADD6, CONV2, FLATTEN, INPUTS, PEGASUS, configure, \
    make_model

I16 = "dynamic_fixed_point-i16"


def _set_list(path, layers: dict[str, str]) -> None:
    doc = QuantizeDocument.open(path)
    with doc.batch():
        for old in list(doc.customized):
            doc.remove_layer(old)
        doc.set_layers(layers)
    doc.save()


def _hybrid(path, capsys) -> dict:
    code = main(["hybrid", str(path), "--pegasus", PEGASUS, "--json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_a_hybrid_run_starts_from_the_plain_table(tmp_path, monkeypatch, capsys):
    path = make_model(tmp_path, monkeypatch)
    configure(path, monkeypatch)
    _set_list(path, {CONV2: I16, ADD6: I16})
    first = _hybrid(path, capsys)
    assert first["started_from_base"] is False  # the file was plain
    assert set(first["applied"]) == {CONV2, ADD6}
    assert tune_stand_in.raised_in(path) == {CONV2, ADD6}
    # Dropping a layer from the list drops it from the model: a bare engine run would keep
    # it raised (the stand-in does, as the engine was measured to).
    _set_list(path, {CONV2: I16})
    second = _hybrid(path, capsys)
    assert second["started_from_base"] is True
    assert tune_stand_in.raised_in(path) == {CONV2}
    assert second["applied"] == {CONV2: I16}
    assert second["not_applied"] == [] and second["raised_not_listed"] == []


def test_the_engines_own_suggestions_are_removed_and_reported(tmp_path, monkeypatch, capsys):
    path = make_model(tmp_path, monkeypatch)
    configure(path, monkeypatch, suggest=[FLATTEN])
    _set_list(path, {CONV2: I16})
    result = _hybrid(path, capsys)
    assert result["engine_suggested"] == {FLATTEN: I16}
    assert QuantizeDocument.open(path).customized == {CONV2: I16}  # the list that was applied
    assert tune_stand_in.raised_in(path) == {CONV2}


def test_check_warns_when_the_table_and_the_list_differ(tmp_path, monkeypatch, capsys):
    path = make_model(tmp_path, monkeypatch)
    configure(path, monkeypatch)
    _set_list(path, {CONV2: I16, ADD6: I16})
    assert main(["check", str(path)]) == 0  # a plain table with a list: before any run
    capsys.readouterr()
    _hybrid(path, capsys)
    assert main(["check", str(path)]) == 0
    capsys.readouterr()
    _set_list(path, {ADD6: I16, FLATTEN: I16})
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    text = path.read_text().splitlines()
    conv_line = next(i for i, line in enumerate(text, 1) if line.startswith(f"  '@{CONV2}:"))
    assert re.search(rf":{conv_line}: warning: layer '{re.escape(CONV2)}' is raised "
                     r"\(dynamic_fixed_point-i16\) in quantize_parameters but not in "
                     "customized_quantize_layers", out), out
    flatten_line = next(i for i, line in enumerate(text, 1)
                        if line.startswith(f"  {FLATTEN}:"))
    assert f":{flatten_line}: warning: layer '{FLATTEN}' is listed as {I16} but not applied" \
        in out


def test_tune_after_a_hybrid_run_measures_the_plain_model(tmp_path, monkeypatch, capsys):
    """The bug this guards: trials replaced only the list of the file's current table, so
    after a hybrid run "nothing raised" still had the layers that run raised."""
    path = make_model(tmp_path, monkeypatch)
    conf = configure(path, monkeypatch, base=0.5, weights={CONV2: 0.45, ADD6: 0.03})
    _set_list(path, {CONV2: I16, ADD6: I16})
    _hybrid(path, capsys)  # the table now raises both
    code = main(["tune", str(path), "--pegasus", PEGASUS, "--json", "--target-cosine", "0.9"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    plain = result["trials"][0]
    assert plain["layers"] == []
    assert plain["min_cosine"] == pytest.approx(tune_stand_in.per_input(set(), conf, INPUTS)[-1],
                                                abs=1e-9)
    assert result["layers"] == {CONV2: I16}
    assert result["base"]["source"] == "the file, seen plain"
    assert "every figure is the --hybrid run on the plain table" in err or \
        "every trial is the --hybrid run on the plain table" in err


def test_the_best_attempt_is_chosen_among_those_on_the_same_base(tmp_path):
    def attempt(time: str, cosine: float, base: str) -> attempts.VerifyAttempt:
        return attempts.VerifyAttempt(time, {}, 4, {"mean_cosine": cosine}, None,
                                      {"base": base, "inputs": "same"})

    earlier = attempt("20260101-000000-000000", 0.999, "old-plain")
    now = [attempt("20260102-000000-000000", 0.9, "plain"),
           attempt("20260103-000000-000000", 0.95, "plain")]
    assert attempts.best([earlier, *now]) is now[1]
    assert attempts.best([*now, earlier]) is earlier


def test_a_base_is_kept_the_first_time_an_engine_step_sees_the_file_plain(
        tmp_path, monkeypatch, capsys):
    path = make_model(tmp_path, monkeypatch)
    configure(path, monkeypatch)
    plain = path.read_bytes()
    _set_list(path, {CONV2: I16})
    _hybrid(path, capsys)
    kept = baseline.load(path)
    assert kept is not None and kept.source == "the file, seen plain"
    assert baseline.with_customized(kept.data, path, {}) == \
        baseline.with_customized(plain, path, {})
    assert kept.calibration.source == INFERRED
    assert kept.calibration.flags == ("--quantizer", "asymmetric_affine", "--qtype", "uint8",
                                      "--iterations", str(INPUTS), "--compute-entropy")


def test_tune_shows_the_calibrations_quantize_compare_measured(tmp_path, monkeypatch, capsys):
    """Another calibration is another plain model: an operating point of its own, never
    "plain"; the seed's order (KLD first, then hybrid) stays visible."""
    from quanted.core.state.history import History

    path = make_model(tmp_path, monkeypatch)
    configure(path, monkeypatch, base=0.5, weights={CONV2: 0.45})
    flags = ["--quantizer", "asymmetric_affine", "--qtype", "uint8", "--iterations",
             str(INPUTS), "--compute-entropy"]
    History(path).record("compare", {"iterations": INPUTS, "sides": {
        "default": {"calibration": flags, "summary": {"min_cosine": 0.23, "top1_agree": 1,
                                                      "count": INPUTS}},
        "kld": {"calibration": [*flags, "--algorithm", "kl_divergence"],
                "summary": {"min_cosine": 0.41, "top1_agree": 2, "count": INPUTS}}}})
    code = main(["tune", str(path), "--pegasus", PEGASUS, "--target-cosine", "0.9"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert re.search(r"calibration default \(the base's\), no list +0 layer\(s\): min cosine "
                     r"0\.230000, top-1 1/4 \(quanted quantize --compare\)", out), out
    assert re.search(r"calibration kld, no list +0 layer\(s\): min cosine 0\.410000", out), out
    assert re.search(r"plain \(the base table, no list\) +0 layer\(s\): min cosine 0\.497", out)


def test_dry_runs_keep_no_base(tmp_path, monkeypatch, capsys):
    path = make_model(tmp_path, monkeypatch)
    configure(path, monkeypatch)
    for command in ("hybrid", "verify", "tune"):
        assert main([command, str(path), "--pegasus", PEGASUS, "--dry-run"]) == 0
    capsys.readouterr()
    assert baseline.load(path) is None
    assert not (path.parent / ".quanted" / "base").exists()
