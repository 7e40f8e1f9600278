"""The HTML report's data and page, without a browser (tests/browser/ opens the page): each
part read from where quanted keeps it, marked current or stale the way its cache is keyed, and
a page that needs nothing from the network."""

from __future__ import annotations

import os
import re
import sys

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.model_json import graph_order, read_layers
from quanted.core.report.html import page, sources
from tests.conftest import SAMPLE
from tests.core.report_scene import populate


def states(data: sources.ReportData) -> dict[str, str]:
    return {source.what: source.state for source in data.sources}


def test_every_part_is_read_and_current(sample):
    customized = populate(sample)
    data = sources.gather(sample)
    assert set(states(data).values()) == {"current"}
    assert [p.layer for p in data.layers] == graph_order(read_layers(
        sample.with_name("tinynet.json")))
    assert {p.layer: p.qtype for p in data.layers if p.qtype} == customized
    assert all(p.cosine is not None for p in data.layers)
    assert sum(p.entropy is not None for p in data.layers) == 36  # the layers entropy.txt has
    [output] = data.outputs
    assert len(output.cosine) == 4 and output.plain_cosine is not None
    assert [t.count for t in data.trials if t.chosen] == [1]
    assert [a.kind for a in data.attempts] == ["hybrid", "verify", "verify", "tune"]
    assert data.best_attempt == "3"


def test_an_edit_makes_the_analysis_and_the_verify_stale_but_not_the_tune(sample):
    populate(sample)
    doc = QuantizeDocument.open(sample)
    doc.remove_layer(next(iter(doc.customized)))
    doc.save()
    found = states(sources.gather(sample))
    # The analysis is keyed by the file's bytes, the verify matched by its list; tune trials by
    # everything but the list (every trial replaces it).
    assert (found["per-layer analysis"], found["last verify"], found["tune trials"]) == (
        "stale", "stale", "current")


def test_a_changed_model_makes_the_tune_stale(sample):
    populate(sample)
    data_file = sample.with_name("tinynet.data")
    data_file.write_bytes(data_file.read_bytes() + b"\0")
    assert states(sources.gather(sample))["tune trials"] == "stale"


def test_entropy_is_stale_when_another_report_for_the_file_is_newer(sample):
    chosen = sample.with_name("tinynet_uint8_entropy.txt")  # the first name quanted looks for
    chosen.write_bytes(sample.with_name("entropy.txt").read_bytes())
    os.utime(chosen, (1_000_000_000, 1_000_000_000))
    [entropy] = [s for s in sources.gather(sample).sources if s.what == "entropy"]
    assert entropy.state == "stale" and "entropy.txt beside it is newer" in entropy.text


def test_nothing_recorded_says_how_to_make_each_part(sample):
    data = sources.gather(sample)
    assert states(data) == {"per-layer analysis": "none", "entropy": "current",
                            "last verify": "none", "tune trials": "none", "history": "none"}
    html = page.render(data)
    for command in ("quanted analyze", "quanted verify", "quanted tune"):
        assert f"{command} {sample.name}" in html


def test_a_file_without_its_model_shows_entropy_and_its_list(tmp_path):
    alone = tmp_path / "m_uint8.quantize"
    alone.write_bytes((SAMPLE / "tinynet_uint8.quantize").read_bytes())
    (tmp_path / "entropy.txt").write_bytes((SAMPLE / "entropy.txt").read_bytes())
    data = sources.gather(alone)
    assert len(data.layers) == 37  # entropy.txt's 36 and the customized layer it lacks
    assert sum(p.qtype is not None for p in data.layers) == 7
    assert "plot-entropy" in page.render(data)


def test_the_page_loads_nothing_from_elsewhere(sample):
    populate(sample)
    html = page.render(sources.gather(sample))
    assert html.startswith("<!DOCTYPE html>")
    # Bokeh's script names a CDN for TeX labels, which the page has none of; the browser test
    # checks that no request leaves the page.
    markup = re.sub(r"<script[^>]*>.*?</script>", "<script></script>", html, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "<link" not in markup
    assert "Bokeh" in html and "plot-cosine" in html and "plot-tune" in html
    assert "layer3/layer3.0/conv2/Conv_output_0_7" in html
    assert len(html) < 1_600_000  # bokeh.min.js alone, not its widgets, tables and math


def test_without_bokeh_the_error_says_what_to_install(sample, monkeypatch):
    monkeypatch.setitem(sys.modules, "bokeh.embed", None)
    with pytest.raises(page.MissingExtra, match=r"pip install 'quanted\[html\]'") as caught:
        page.render(sources.gather(sample))
    assert caught.value.exit_code == 2


def test_the_last_verify_per_output_figures_and_check_in_both_reports(sample):
    """populate's last verify is a detector's (report_scene.record_verify): two outputs with
    their figures per run, the plain run's score head collapsed, and a task check."""
    from quanted.core.report import handover
    from tests.core.report_scene import CHECK, OUTPUT, SCORES

    populate(sample)
    report = handover.build(sample)
    md = report.markdown()
    table = [line for line in md.splitlines() if line.startswith("| `@")]
    assert [line.split(" | ")[:3] for line in table if "plain" not in line] == [
        [f"| `{OUTPUT}`", "quantized", "class"], [f"| `{SCORES}`", "quantized", "values"]]
    collapsed = next(line for line in table if SCORES in line and "plain quantized" in line)
    assert "| 0.999976 | 44.1 | 0.647894 | COLLAPSED: 3 distinct quantized values" in collapsed
    assert (f"Task check `{CHECK}`: quantized acceptable (metric=0.0238064); plain quantized "
            "NOT acceptable (metric=0.156536).") in md
    assert "Quantized: the file's table: " in md
    verify = report.to_json()["verify"]
    assert [(o["tensor"], o["run"]) for o in verify["outputs"]] == [
        (OUTPUT, "quantized"), (OUTPUT, "plain quantized"), (SCORES, "quantized"),
        (SCORES, "plain quantized")]
    assert verify["check"]["quantized"]["metric"] == 0.0238064
    html = page.render(sources.gather(sample))
    rows = re.findall(r"<tr><td><code>(@[^<]+)</code></td><td>([a-z ]+)</td>",
                      html[html.index("id='per-output'"):])
    assert rows == [(OUTPUT, "quantized"), (OUTPUT, "plain quantized"),
                    (SCORES, "quantized"), (SCORES, "plain quantized")]
    assert "<td class='collapsed'>COLLAPSED: 3 distinct" in html
    assert re.search(r"<p id='check'>Task check <code>python3 examples/check_scores.py</code>: "
                     r"quantized: <b>acceptable \(metric=0.0238064\)</b>; plain quantized: "
                     r"<b>NOT acceptable \(metric=0.156536\)</b></p>", html)


def test_tune_trials_with_a_check_metric_get_their_plot(sample):
    populate(sample)
    data = sources.gather(sample)
    chosen = [t for t in data.trials if t.chosen]
    assert [(t.acceptable, t.metric) for t in chosen] == [(True, 0.0038)]
    assert all(t.metric is not None for t in data.trials)
    html = page.render(data)
    assert "plot-tune-metric" in html and "check metric" in html
    # a tune without --check: no metric plot
    for trial in data.trials:
        object.__setattr__(trial, "metric", None)
    assert "plot-tune-metric" not in page.render(data)
