"""`quanted report --format html` in Chromium: the page renders with no console error and no
request leaving the file, its plots exist, hovering a point shows its layer id, and a
screenshot at a fixed size is the size asked and not blank (pixels differ with the fonts
installed, so they are not compared)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from quanted.cli import main
from tests.conftest import copy_sample
from tests.core.report_scene import populate

pytestmark = pytest.mark.browser

PLOTS = ["plot-cosine", "plot-drop", "plot-entropy", "plot-outputs", "plot-tune",
         "plot-tune-metric", "plot-history"]
VIEWS = "[...Bokeh.index.all_views()]"
# The plot scrolled into view, and the window position of its point (x, y), from Bokeh's
# own scales.
POINT = f"""([name, x, y]) => {{
  const view = {VIEWS}.find(v => v.model.name === name);
  view.el.scrollIntoView({{block: "center"}});
  const box = view.el.getBoundingClientRect();
  return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)];
}}"""
ROW = f"""([name, i]) => {{
  const view = {VIEWS}.find(v => v.model.name === name);
  const data = view.model.renderers.at(-1).data_source.data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v[i]]));
}}"""


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    quantize = copy_sample(folder)
    populate(quantize)
    out = folder / "report.html"
    assert main(["report", str(quantize), "--format", "html", "-o", str(out)]) == 0
    return out


def open_report(browser, path: Path):
    """A page with the report loaded and drawn; its console errors and requests collected."""
    page = browser.new_page()
    page.errors, page.requests = [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_function(
        f"() => window.Bokeh && Bokeh.documents.length && Bokeh.documents[0].is_idle "
        f"&& {VIEWS}.filter(v => v.model.name?.startsWith('plot-')).length === {len(PLOTS)}")
    return page


def test_the_page_renders_every_plot_with_no_error_and_no_request(browser, report_page):
    page = open_report(browser, report_page)
    names = page.evaluate(f"() => {VIEWS}.map(v => v.model.name).filter(n => n?.startsWith"
                          "('plot-'))")
    assert sorted(names) == sorted(PLOTS)
    assert page.locator("canvas").count() >= len(PLOTS)
    assert page.errors == []
    assert page.requests == [report_page.as_uri()]
    page.close()


def test_hovering_a_point_shows_its_layer_id(browser, report_page):
    page = open_report(browser, report_page)
    for name, index in (("cosine", 5), ("cosine", 30), ("entropy", 12)):
        row = page.evaluate(ROW, [f"plot-{name}", index])
        page.mouse.move(*page.evaluate(POINT, [f"plot-{name}", index, row[name]]))
        page.locator(".bk-Tooltip").get_by_text(row["layer"], exact=True).first.wait_for(
            state="visible", timeout=5000)
    page.close()


def test_the_per_output_table_the_check_and_the_metric_plot_are_shown(browser, report_page):
    """The last verify is a detector's (report_scene.record_verify): its per-output table and
    the check's verdicts are on the page, the tune's check metric has its plot, linked to the
    cosine plot's layer axis, and hovering the chosen set's star names its metric."""
    page = open_report(browser, report_page)
    table = page.locator("#per-output")
    table.scroll_into_view_if_needed()
    assert table.is_visible()
    assert table.locator("tr").count() == 5  # the header, 2 outputs x 2 runs
    assert table.locator("td.collapsed").count() == 1
    assert "plain quantized: NOT acceptable (metric=0.156536)" in page.locator(
        "#check").inner_text()
    linked = page.evaluate(f"""() => {{
      const views = {VIEWS};
      const tune = views.find(v => v.model.name === 'plot-tune');
      const metric = views.find(v => v.model.name === 'plot-tune-metric');
      return tune.model.x_range.id === metric.model.x_range.id;
    }}""")
    assert linked
    # their x axes line up: layer count 0 is at the same place on the page in both
    zero = [page.evaluate(POINT, [name, 0, 0])[0] for name in ("plot-tune", "plot-tune-metric")]
    assert abs(zero[0] - zero[1]) < 1
    star = page.evaluate("""() => {
      const view = [...Bokeh.index.all_views()].find(v => v.model.name === 'plot-tune-metric');
      const data = view.model.renderers.at(-1).data_source.data;
      return [data.count[0], data.metric[0]];
    }""")
    page.mouse.move(*page.evaluate(POINT, ["plot-tune-metric", *star]))
    page.locator(".bk-Tooltip").get_by_text("acceptable", exact=True).first.wait_for(
        state="visible", timeout=5000)
    assert page.errors == []
    page.close()


def test_a_screenshot_at_a_fixed_size_is_that_size_and_not_blank(browser, report_page, shots):
    page = open_report(browser, report_page)
    page.evaluate("() => document.getElementById('layers').scrollIntoView()")
    png = page.screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (1200, 900)
    # Text, plots and their colours: a blank or half-drawn page has a handful of colours.
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 200
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "report.png"))
    page.close()
