"""`quanted layers/add --by drop`: --above and --top rank by the drop of the current cached
analysis (tests/core/cached_analysis.py) instead of max entropy; never converter layers."""

from __future__ import annotations

import json

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from tests.core import cached_analysis
from tests.core.docs import v2_tensor

CONVERTER = "layer2/layer2.0/conv1/Conv_output_0_20_pre_asymmetric_affineu8_to_float16float16_41"
CUSTOMIZED = "layer3/layer3.0/conv2/Conv_output_0_7"  # customized in the sample already
DROPS = {CONVERTER: 0.3, "layer2/layer2.1/Add_output_0_12": 0.05, CUSTOMIZED: 0.04,
         "features/features.0/Conv_output_0_36": 0.02, "layer1/layer1.0/Add_output_0_26": 0.01,
         "layer2/layer2.0/conv1/Conv_output_0_23": -0.01, "output_1": None}


@pytest.fixture
def analysed(sample):
    text = sample.read_text().replace(
        "quantize_parameters:\n", "quantize_parameters:\n" + v2_tensor(f"@{CONVERTER}:out0"), 1)
    sample.write_text(text)
    cached_analysis.store(sample, DROPS)
    return sample


def test_layers_by_drop_lists_worst_drop_first_without_converters(analysed, capsys):
    assert main(["layers", str(analysed), "--by", "drop", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["layer"] for r in rows] == [
        "layer2/layer2.1/Add_output_0_12", CUSTOMIZED, "features/features.0/Conv_output_0_36",
        "layer1/layer1.0/Add_output_0_26", "layer2/layer2.0/conv1/Conv_output_0_23"]
    assert [r["drop"] for r in rows] == [0.05, 0.04, 0.02, 0.01, -0.01]
    assert main(["layers", str(analysed), "--by", "drop", "--above", "0.02", "--top", "2",
                 "--json"]) == 0
    assert [r["layer"] for r in json.loads(capsys.readouterr().out)] == [
        "layer2/layer2.1/Add_output_0_12", CUSTOMIZED]


def test_add_by_drop_adds_exactly_the_layers_at_or_above(analysed, capsys):
    before = QuantizeDocument.open(analysed).customized
    assert main(["add", str(analysed), "--by", "drop", "--above", "0.015"]) == 0
    added = set(QuantizeDocument.open(analysed).customized) - set(before)
    # The converter's 0.3 and the customized layer's 0.04 are not added (again).
    assert added == {"layer2/layer2.1/Add_output_0_12", "features/features.0/Conv_output_0_36"}


def test_by_drop_without_a_current_analysis_says_how_to_make_one(analysed, capsys):
    assert main(["add", str(analysed), "layer1/layer1.0/Add_output_0_26"]) == 0  # now stale
    capsys.readouterr()
    before = analysed.read_bytes()
    assert main(["add", str(analysed), "--by", "drop", "--top", "1"]) == 1
    err = capsys.readouterr().err
    assert "stale" in err and "--by drop needs a current analysis" in err
    assert "quanted analyze" in err
    assert analysed.read_bytes() == before
