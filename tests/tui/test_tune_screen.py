"""T: the tune screen, driven by the STAND-IN engine of tests/cli/tune_stand_in.py (its
cosine is a known function of the raised set) on a copy of the sample: the search, its plot,
cancel (the file untouched), and `a`, which makes the result an undoable edit before the
hybrid run. The search itself against the real engine is tests/engine/test_tune_engine.py."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from engine_helpers import install_stand_in, wait_for
from tui_helpers import settle

from quanted.core.document.model import QuantizeDocument
from quanted.core.tune import session
from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.save_first import SaveFirst
from quanted.tui.screens.main import MainScreen
from quanted.tui.screens.tune import TuneScreen
from quanted.tui.widgets import engine_log
from quanted.tui.widgets.tune_plot import TunePlot
from tests.cli import tune_stand_in

CONV2 = "layer3/layer3.0/conv2/Conv_output_0_7"
AVGPOOL = "avgpool/GlobalAveragePool_output_0_4"
TIMEOUT = 120


def stand_in(folder: Path, monkeypatch, **conf) -> Path:
    """`pegasus` on PATH running the stand-in; trials' scratch folders under folder/tmp."""
    conf = {"base": 0.5, "spread": 0.001, "weights": {CONV2: 0.3, AVGPOOL: 0.2},
            "log": str(folder / "calls.log"), **conf}
    config = folder / "stand-in.json"
    config.write_text(json.dumps(conf))
    monkeypatch.setenv("TUNE_STAND_IN", str(config))
    install_stand_in(folder, f"#!{sys.executable}\nimport runpy\n"
                             f"runpy.run_path({str(Path(tune_stand_in.__file__))!r}, "
                             "run_name='__main__')\n", monkeypatch)
    (folder / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder / "tmp"))
    return folder / "hang"


async def open_tune(pilot) -> TuneScreen:
    await settle(pilot)
    await pilot.press("T")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TuneScreen), what="T")
    return pilot.app.screen


async def test_search_plot_and_apply_as_an_undoable_edit(sample, monkeypatch):
    stand_in(sample.parent, monkeypatch)
    before = sample.read_bytes()
    app = QuantedApp(sample.name)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tune(pilot)
        await pilot.press("enter")  # in the target field: 0.99
        await wait_for(pilot, lambda: screen.outcome is not None, TIMEOUT, "the search")
        outcome = screen.outcome
        assert outcome is not None and outcome.met
        assert set(outcome.layers) == {CONV2, AVGPOOL}
        points = dict(screen.query_one(TunePlot).points)
        assert points[0] < 0.99 <= points[2]
        assert sample.read_bytes() == before  # the search writes nothing
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveFirst), what="the hybrid offer")
        await pilot.press("escape")  # not now
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen) and main.doc is not None
        assert main.doc.customized == {CONV2: "dynamic_fixed_point-i16",
                                       AVGPOOL: "dynamic_fixed_point-i16"}
        assert sample.read_bytes() == before  # an edit in the editor, not saved
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert main.doc.customized == QuantizeDocument.open(sample).customized


async def test_a_task_check_typed_in_the_screen_decides_with_the_target(sample, monkeypatch,
                                                                       tmp_path):
    """STAND-IN engine. A check command typed beside the target (`--check CMD` of the CLI)
    runs on every trial; each trial's line says its verdict and metric, and one the check
    refuses never meets the target."""
    stand_in(sample.parent, monkeypatch)
    script = tmp_path / "check.py"
    script.write_text("import sys\nprint('metric=0.5')\nsys.exit(1)\n")
    command = f"{sys.executable} {script}"
    app = QuantedApp(sample.name)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tune(pilot)
        field = screen.query_one("#tune-check")
        field.focus()
        field.value = command
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.outcome is not None, TIMEOUT, "the search")
        assert screen.outcome is not None and not screen.outcome.met
        assert app.task_check == command
        setup = screen.setup
        assert setup is not None and setup.options.target.check is not None
        trials = [line for line in screen.log_view.plain() if line.startswith("trial ")]
        assert trials and all("check NOT acceptable (metric=0.5)" in line for line in trials)
        assert all(line.endswith(")") and "-> misses" in line for line in trials)


async def test_escape_cancels_and_leaves_the_file_untouched(sample, monkeypatch):
    hang = stand_in(sample.parent, monkeypatch, hang_on_quantize=2)
    before = sample.read_bytes()
    app = QuantedApp(sample.name)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tune(pilot)
        await pilot.press("enter")
        await wait_for(pilot, hang.exists, TIMEOUT, "the second trial to start")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.state == "done", TIMEOUT, "the cancel")
        assert screen.outcome is None
        assert "cancelled" in str(screen.query_one("#tune-plan").content)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert sample.read_bytes() == before
    assert not list((sample.parent / "tmp").iterdir())  # scratch folders are gone


def test_snapshot_of_a_finished_search(sample, monkeypatch, snap_compare):
    stand_in(sample.parent, monkeypatch)
    monkeypatch.setattr(engine_log, "clock", lambda: 0.0)  # the stopwatch shows 0.0 s

    async def search(pilot) -> None:
        screen = await open_tune(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.outcome is not None, TIMEOUT, "the search")
        # not settle(): the editor's flow waits on this screen until it closes
        await pilot.pause(0.5)

    # A first search (the core's) records every trial; the picture is of the editor's, which
    # reuses them all: no measured seconds on screen.
    session.search(session.prepare(sample, session.Options()))
    assert snap_compare(QuantedApp(sample.name), terminal_size=(120, 40), run_before=search)


async def test_the_plot_draws_the_check_metric_below_and_marks_the_chosen_count():
    """The widget alone (the editor's tune has no --check; trials a `tune --check` recorded
    bring their metric): a band of metric bars under the cosine bars, coloured by verdict."""
    from textual.app import App, ComposeResult

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield TunePlot(id="plot")

    app = One()
    async with app.run_test(size=(40, 12)) as pilot:
        plot = app.query_one(TunePlot)
        plot.styles.height = 10
        points = [(0, 0.22), (1, 0.98), (2, 0.995), (5, 0.999)]
        plot.show(points, 0.99)
        await pilot.pause()
        plain_lines = plot.render().plain.splitlines()
        assert plain_lines[-1].split() == ["0", "1", "2", "5"]
        checks = {0: (False, 0.78), 1: (False, 0.05), 2: (True, 0.0238), 5: (True, 0.002)}
        plot.show(points, 0.99, checks, chosen=2)
        await pilot.pause()
        content = plot.render()
        lines = content.plain.splitlines()
        rows = plot.content_region.height - 1
        band = max(2, rows // 3)
        assert len(lines) == rows + 1 and lines[-1].split() == ["0", "1", "2*", "5"]
        metric_rows = lines[rows - band:rows]
        assert metric_rows[-1][0] == "█"  # the plain model's 0.78: the tallest metric
        assert metric_rows[0][0] == "█" and metric_rows[0][10:12].strip() == ""
        assert plot.border_subtitle == "target 0.99 · below: check metric 0–0.78"
        styles = {span.style for span in content.spans}
        assert {"$text-success", "$text-error", "$text-primary", "$text-warning"} <= styles
