"""`quanted report` with the per-layer analysis figures: a current cached analysis shows its
figures, one made before the file changed shows them marked stale with its age, and without one
each format says how to make it. The cache entries are written here as `quanted analyze` stores
them (the real analysis is tested in tests/engine/test_analysis_engine.py)."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime, timedelta, timezone

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.analysis import plan
from quanted.core.engine.analysis_cache import AnalysisCache
from quanted.core.engine.layer_figures import LayerFigures
from tests.core.docs import v2_doc
from tests.core.model_folder import write_model_folder

CUSTOMIZED = "customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16  # worst drop\n"
NO_ANALYSIS = "no analysis (run quanted analyze m_uint8.quantize)"


@pytest.fixture
def quantized(tmp_path):
    write_model_folder(tmp_path, ["c1_8", "c2_6"], ["a.npy", "b.npy"])
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc(customized=CUSTOMIZED))
    return path


def store_analysis(path, hours_ago: int) -> None:
    """A cached analysis of the file as it is now, made `hours_ago` hours ago."""
    the_plan = plan(QuantizeDocument.open(path))
    figures = [LayerFigures("c1_8", "out0", cosine=0.912345, cosine_min=0.9, cosine_raw=0.91,
                            clamped=False, sqnr_db=14.25, max_abs_error=0.5, drop=0.081234),
               LayerFigures("c2_6", "out0", cosine=0.99, cosine_min=0.98, cosine_raw=0.99,
                            clamped=True, sqnr_db=None, max_abs_error=0.1, drop=None)]
    when = datetime.now(timezone.utc) - timedelta(hours=hours_ago, minutes=5)
    AnalysisCache(the_plan.quantize).store_result(the_plan.key, {
        "key": the_plan.key, "time": when.isoformat(), "file": str(the_plan.quantize),
        "iterations": the_plan.iterations, "model": str(the_plan.model),
        "float_model": str(the_plan.files.model), "runs": [],
        "layers": [item.to_json() for item in figures]})


def report(capsys, path, fmt: str) -> str:
    assert main(["report", str(path), "--format", fmt]) == 0
    return capsys.readouterr().out


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_current_analysis_gives_each_layer_its_figures(quantized, capsys):
    store_analysis(quantized, hours_ago=3)
    md = report(capsys, quantized, "md")
    assert ("| layer | qtype | entropy out0 | entropy weight | cosine | drop | sqnr dB | comment |"
            in md)
    row = "| `c1_8` | dynamic_fixed_point-i16 | - | - | 0.912345 | +0.081234 | 14.2 | worst drop |"
    assert row in md
    assert "Per-layer analysis: current: made 3 h ago over 2 input(s)." in md
    data = json.loads(report(capsys, quantized, "json"))
    assert data["analysis"]["state"] == "current" and data["analysis"]["iterations"] == 2
    assert 3 * 3600 < data["analysis"]["age_seconds"] < 4 * 3600
    assert data["customized"][0]["analysis"] == {
        "cosine": 0.912345, "cosine_min": 0.9, "drop": 0.081234, "sqnr_db": 14.25,
        "max_abs_error": 0.5, "clamped": False}
    rows = csv_rows(report(capsys, quantized, "csv"))
    assert [(r["layer"], r["cosine"], r["drop"], r["sqnr_db"]) for r in rows] == [
        ("c1_8", "0.912345", "0.081234", "14.25")]
    assert rows[0]["analysis"] == "current: made 3 h ago over 2 input(s)"
    assert rows[0]["comment"] == "worst drop"


def test_an_analysis_made_before_the_file_changed_is_marked_stale_with_its_age(
        quantized, capsys):
    store_analysis(quantized, hours_ago=2)
    assert main(["add", str(quantized), "c2_6", "--qtype", "float16"]) == 0
    capsys.readouterr()
    md = report(capsys, quantized, "md")
    stale = ("stale: made 2 h ago, before the file or its model changed "
             "(run quanted analyze m_uint8.quantize)")
    assert f"Per-layer analysis: {stale}." in md
    # Its figures are still shown (marked stale above): the layer added since has them too.
    assert "| `c2_6` | float16 | - | - | 0.990000 | - | - |  |" in md
    data = json.loads(report(capsys, quantized, "json"))
    assert data["analysis"]["state"] == "stale" and data["analysis"]["text"] == stale
    assert data["customized"][0]["analysis"]["cosine"] == 0.912345
    rows = csv_rows(report(capsys, quantized, "csv"))
    assert {r["analysis"] for r in rows} == {stale}
    assert [r["cosine"] for r in rows] == ["0.912345", "0.99"]


def test_without_an_analysis_each_format_says_how_to_make_one(quantized, capsys):
    md = report(capsys, quantized, "md")
    assert "| `c1_8` | dynamic_fixed_point-i16 | - | - | - | - | - | worst drop |" in md
    assert f"Per-layer analysis: {NO_ANALYSIS}." in md
    data = json.loads(report(capsys, quantized, "json"))
    assert data["analysis"] == {"state": "none", "time": None, "age_seconds": None,
                                "iterations": None, "configuration": None,
                                "text": NO_ANALYSIS}
    assert data["customized"][0]["analysis"] is None
    rows = csv_rows(report(capsys, quantized, "csv"))
    assert rows[0]["analysis"] == NO_ANALYSIS
    assert (rows[0]["cosine"], rows[0]["drop"]) == ("", "")
    assert not (quantized.parent / ".quanted" / "analysis").exists()


def test_html_goes_to_stdout_or_to_the_file_given(quantized, capsys, tmp_path):
    store_analysis(quantized, hours_ago=1)
    html = report(capsys, quantized, "html")
    assert html.startswith("<!DOCTYPE html>") and "plot-cosine" in html
    out = tmp_path / "report.html"
    assert main(["report", str(quantized), "--format", "html", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(quantized), "-o", str(out)]) == 0  # -o for every format
    assert out.read_text(encoding="utf-8").startswith("### `m_uint8.quantize`")


def test_html_without_bokeh_is_exit_2_naming_the_extra(quantized, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "bokeh.embed", None)
    assert main(["report", str(quantized), "--format", "html"]) == 2
    assert "pip install 'quanted[html]'" in capsys.readouterr().err
