"""a: the analysis in the editor, with the STAND-IN engine of tests/core/analysis_standin.py
(the real engine: tests/engine/test_analysis_engine.py). Its progress, cancel, the COS and
DROP columns, sorting by them, the stale view, and a snapshot of the table with an analysis."""

from __future__ import annotations

import sys

import pytest
from engine_helpers import plain, wait_for
from tui_helpers import settle

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from quanted.tui.app import QuantedApp
from quanted.tui.screens.analyze import AnalyzeScreen
from quanted.tui.screens.main import MainScreen
from quanted.tui.widgets.layer_table import LayerTable
from tests.core.test_analysis_flow import STANDIN, quantize_text, standin_model


@pytest.fixture
def model(tmp_path, monkeypatch):
    """The stand-in model of the core flow tests, as the editor opens it."""
    path = standin_model(tmp_path)
    (tmp_path / "entropy.txt").write_text("@conv/a_2:out0, 0.7\n@add_4:out0, 0.3\n"
                                          "@conv_a_3:out0, 0.5\n@input_1:out0, 0.1\n")
    monkeypatch.setenv("QUANTED_PEGASUS", f"{sys.executable} {STANDIN}")
    monkeypatch.chdir(tmp_path)
    return path


def _main(app) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


async def _analyze(app, pilot) -> AnalyzeScreen:
    """`a` once the editor settled: the analyze screen, its run started."""
    await settle(pilot)
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, AnalyzeScreen), what="the screen")
    return app.screen


def _ids(app) -> list[str]:
    model = _main(app).model
    return [model.row_at(i).layer for i in range(len(model))]


async def test_a_runs_the_analysis_with_progress_then_columns_and_sorts(model):
    app = QuantedApp(model)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await _analyze(app, pilot)
        await wait_for(pilot, lambda: screen.result is not None, timeout=60, what="the result")
        bar = screen.query_one("#analyze-bar")
        assert bar.total == 4 and bar.progress == 4  # 2 runs x 2 inputs
        assert "Done: 4 layer outputs x 2 inputs, 2 engine run(s)" in str(
            screen.query_one("#analyze-step").render())
        await pilot.press("escape")
        await settle(pilot)
        main = _main(app)
        assert main.model.figures and main.model.analysis_current
        table = main.query_one(LayerTable)
        header = "".join(seg.text for seg in table.render_line(0))
        assert "COS" in header and "DROP" in header
        top = main.model.row_at(0).layer  # conv/a_2, fed by input_1: the damage shown
        await wait_for(pilot, lambda: "→" in str(table.border_subtitle), what="the detail")
        assert str(table.border_subtitle).startswith(top) and "drop" in table.border_subtitle
        assert f"{main.model.figures['input_1'].cosine:.4f} → " in table.border_subtitle
        drops = {layer: f.drop for layer, f in main.model.figures.items()}
        for _ in range(3):  # entropy -> name -> file -> drop
            await pilot.press("s")
        assert main.model.sort == "drop"
        shown = [layer for layer in _ids(app) if drops.get(layer) is not None]
        assert shown == sorted(shown, key=lambda layer: -drops[layer])
        await pilot.press("s")
        assert main.model.sort == "cosine"
        cosines = [main.model.figures[layer].cosine for layer in _ids(app)]
        assert cosines == sorted(cosines)


async def test_cancel_stops_the_analysis(model, monkeypatch):
    monkeypatch.setenv("STANDIN_MODE", "hang")
    app = QuantedApp(model)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await _analyze(app, pilot)
        await wait_for(pilot, lambda: screen.log_view.written >= 1, timeout=30,
                       what="the first log line")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.state == "done", timeout=30, what="the cancel")
        assert "Cancelled" in str(screen.query_one("#analyze-step").render())
        assert analysis.load_latest(model) is None


async def test_a_failed_run_is_named_with_its_status_and_last_log_lines(model, monkeypatch):
    monkeypatch.setenv("STANDIN_MODE", "fail")  # the float32 run exits 3 after a log line
    app = QuantedApp(model)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await _analyze(app, pilot)
        await wait_for(pilot, lambda: screen.state == "done", timeout=60, what="the failure")
        assert "Failed: float32." in str(screen.query_one("#analyze-step").render())
        text = str(screen.query_one("#analyze-result").render())
        assert "the float32 run failed with status 3:" in text and "stand-in failure" in text


async def test_stale_analysis_is_shown_greyed_with_its_age(model):
    analysis.run(analysis.plan(QuantizeDocument.open(model)))
    model.write_text(quantize_text("customized_quantize_layers:\n  add_4: float16\n"))
    app = QuantedApp(model)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        main = _main(app)
        assert main.model.figures and not main.model.analysis_current
        header = "".join(seg.text for seg in main.query_one(LayerTable).render_line(0))
        assert "stale, 0 s old" in header or "stale, 1 s old" in header


def test_snapshot_table_with_analysis(model, snap_compare):
    analysis.run(analysis.plan(QuantizeDocument.open(model)))

    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(QuantedApp(model, display_name="m_uint8.quantize"),
                        terminal_size=(140, 30), run_before=ready)


async def test_tensorflow_start_up_lines_stay_out_of_the_log_view(model):
    """The stand-in prints acuitylite's recorded TensorFlow lines first: the screen's log
    hides them, the log file keeps them."""
    from tests.core.analysis_standin import TF_START_UP

    app = QuantedApp(model)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await _analyze(app, pilot)
        await wait_for(pilot, lambda: screen.result is not None, timeout=60, what="the result")
        screen.log_view.flush()
        shown = "\n".join(line.text for line in screen.log_view.lines)
        assert "Start inference" in shown and "external/local_xla" not in shown
    (log,) = (model.parent / ".quanted" / "logs").glob("*.analyze.log")
    assert TF_START_UP[0] in log.read_text()


async def test_a_customized_layer_not_applied_yet_is_said_in_the_view_and_on_its_row(model):
    """conv/a_2 (the largest drop) is customized, but its tensors are still u8: the analysis
    measured it unraised. The worst drops and the row say so."""
    model.write_text(quantize_text(
        "customized_quantize_layers:\n  conv/a_2: dynamic_fixed_point-i16\n"))
    app = QuantedApp(model)
    async with app.run_test(size=(140, 36)) as pilot:
        screen = await _analyze(app, pilot)
        await wait_for(pilot, lambda: screen.result is not None, timeout=60, what="the result")
        result = plain(screen.query_one("#analyze-result").content)
        assert "○ conv/a_2" in result and "customized, not applied yet (1 of these)" in result
        await pilot.press("escape")
        await settle(pilot)
        table = _main(app).query_one(LayerTable)
        index = _main(app).model.index_of("conv/a_2")
        assert table.render_line(index + 1).text.startswith("○")
        table.cursor = index
        await wait_for(pilot, lambda: "not applied yet" in str(table.border_subtitle),
                       what="the highlighted row's note")


async def test_the_summary_names_what_it_measured_and_gives_each_output_its_figures(tmp_path,
                                                                                   monkeypatch):
    """A two-output model (tests/core/test_analysis_outputs.py's): above the largest drops,
    what the quantized run measured and the per-output table, as `quanted analyze` prints
    them."""
    from tests.core.test_analysis_outputs import OUTPUTS, two_output_model

    app = QuantedApp(two_output_model(tmp_path, monkeypatch))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _analyze(app, pilot)
        await wait_for(pilot, lambda: screen.result is not None, timeout=60, what="the result")
        lines = [line.rstrip() for line in
                 plain(screen.query_one("#analyze-result").content).splitlines()]
        assert lines[0] == "quantized: the file's table: plain, no layer raised"
        assert lines[1] == "per output, quantized vs float over 2 input(s)"
        rows = {line.split()[0]: line.split() for line in lines if line.strip().startswith("@")}
        for tensor, figures in screen.result.outputs.items():
            assert rows[tensor][1:5] == ["values", f"{figures.min_cosine:.6f}",
                                         f"{figures.sqnr_db:.1f}",
                                         f"{figures.max_abs_error:.6f}"]
        assert set(rows) == set(OUTPUTS)
        assert any(line.startswith("Largest drops") for line in lines)
        # on an 80-column screen (78 inside the padding) each id stays whole on its row
        narrow = plain(screen.query_one("#analyze-result").content, width=78).splitlines()
        assert {line.split()[0] for line in narrow if line.lstrip().startswith("@")} == set(OUTPUTS)


def test_the_compact_per_output_table_keeps_detector_ids_whole_at_80_columns():
    """detnet's output ids and a collapsed score head (the figures of report_scene's verify
    record), as the analyze screen draws them in 78 columns."""
    from quanted.core.engine.output_figures import OutputFigures
    from quanted.tui.widgets.output_table import outputs_table
    from tests.core.report_scene import SCORES, output_figures

    boxes = "@attach_boxes/out0_0:out0"
    outputs = {t: OutputFigures.from_json(output_figures(t, "values", 0.9999, t == SCORES))
               for t in (boxes, SCORES)}
    lines = plain(outputs_table("quantized", outputs, compact=True), width=78).splitlines()
    rows = [line.split() for line in lines if line.startswith("@")]
    assert [row[0] for row in rows] == [boxes, SCORES]
    assert rows[1][-2:] == ["2.1", "COLLAPSED"]
    assert any(line.startswith("collapsed: @attach_scores/out0_1:out0: 3 distinct")
               for line in lines)
