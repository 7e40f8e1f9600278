"""ctrl+r: the hybrid run screen. Quick tests use the khadas fixture with stand-in model files
and a stand-in pegasus (or none); the `engine` tests run acuitylite 6.57.1 on a copy of the
sample model, picking their layer from the file at test time."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from engine_helpers import RUN_STAND_IN, install_stand_in, khadas_model_files, plain, wait_for
from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.save_first import SaveFirst
from quanted.tui.screens.main import MainScreen
from quanted.tui.screens.run import RunScreen
from quanted.tui.widgets.command_line import CommandLine
from quanted.tui.widgets.engine_log import EngineLog
from tui_helpers import KHADAS, settle

QUANTIZE = "tinynet_uint8.quantize"
ENGINE_TIMEOUT = 180


async def _open_run(pilot) -> RunScreen:
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunScreen), what="the run screen")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: str(screen.query_one("#problems", Static).content)
                   != "Reading the file…", what="the command")
    return screen


def _text(screen, selector: str) -> str:
    return plain(screen.query_one(selector, Static).content)


async def test_unsaved_edits_ask_first_and_cancel_runs_nothing(quantize, original):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "ctrl+r")
        assert isinstance(app.screen, SaveFirst)
        assert "unsaved changes" in str(app.screen.query_one("#save-first-message").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.main.doc.is_modified
    assert quantize.read_bytes() == original
    assert not (quantize.parent / ".quanted").exists()


async def test_pegasus_not_found_is_said_and_the_command_line_stays_usable(
        quantize, original, no_pegasus):
    khadas_model_files(quantize.parent)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        assert "pegasus not found" in _text(screen, "#problems")
        command = screen.query_one("#command", CommandLine)
        assert command.value.startswith("pegasus quantize ") and "--hybrid" in command.value
        assert app.focused is command
        await pilot.press("enter")
        await wait_for(pilot, lambda: "no such program" in _text(screen, "#problems"),
                       what="the not-found error")
        assert screen.state == "idle" and not screen.ran
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert quantize.read_bytes() == original


async def test_a_printed_rebuild_command_becomes_the_hybrid_command(
        quantize, original, monkeypatch):
    folder = quantize.parent
    khadas_model_files(folder)
    install_stand_in(folder, RUN_STAND_IN, monkeypatch)
    printed = ("pegasus quantize --model khadas_mobilenet_tf.json --model-data "
               "khadas_mobilenet_tf.data --with-input-meta khadas_mobilenet_tf_inputmeta.yml "
               "--rebuild --model-quantize khadas_mobilenet_tf.quantize "
               "--quantizer asymmetric_affine --qtype uint8 --compute-entropy --iterations 4")
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        command = screen.query_one("#command", CommandLine)
        command.value = printed
        command.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None, what="the stand-in run")
        assert screen.plan.command[:2] == ["pegasus", "quantize"]
        assert "--hybrid" in screen.plan.command and "--rebuild" not in screen.plan.command
        assert command.value.endswith("--compute-entropy --iterations 4")
        assert "--rebuild" not in command.value and "--hybrid" in command.value
        calls = (folder / "calls.log").read_text()
        assert "--hybrid" in calls and "--iterations 4" in calls
        # pegasus exited 0, but the log said a layer was not applied: shown with its layer.
        result = _text(screen, "#result")
        assert "NOT applied" in result and "Conv2d_0/Conv2D_88" in result
        assert "NOT applied" in _text(screen, "#run-state")


async def test_check_errors_refuse_until_forced(quantize, monkeypatch):
    folder = quantize.parent
    khadas_model_files(folder)
    install_stand_in(folder, RUN_STAND_IN, monkeypatch)
    quantize.write_bytes(quantize.read_bytes() + b"    ghost_layer_9: dynamic_fixed_point-i16\n")
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        assert "ghost_layer_9" in _text(screen, "#problems")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.query_one("#refusal").display, what="the refusal")
        assert "Refused" in _text(screen, "#run-state")
        assert not (folder / "calls.log").exists()
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: screen.result is not None, what="the forced run")
        assert (folder / "calls.log").is_file()


def _first_addable_row(main):
    model = main.model
    for index in range(len(model)):
        row = model.row_at(index)
        if row.customized is None and row.in_file and row.entropy:
            return index, row.layer
    raise AssertionError("no layer to add in the sample")


@pytest.mark.engine
async def test_full_run_streams_the_log_and_reloads_the_file(sample, real_engine):
    app = QuantedApp(QUANTIZE)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        index, layer = _first_addable_row(app.main)
        await pilot.press(*["down"] * index)
        assert app.main.table.current.layer == layer
        await pilot.press("space", "ctrl+r")
        assert isinstance(app.screen, SaveFirst)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
        assert layer in sample.read_text()  # saved before the run
        screen = app.screen
        log = screen.query_one(EngineLog)
        await wait_for(pilot, lambda: screen.query_one("#command", CommandLine).value,
                       what="command")
        await pilot.press("enter")
        await wait_for(pilot, lambda: log.written >= 3 or screen.result is not None,
                       timeout=ENGINE_TIMEOUT, what="engine lines")
        assert screen.result is None, "the log did not stream: no line before the run ended"
        await wait_for(pilot, lambda: screen.result is not None, timeout=ENGINE_TIMEOUT,
                       what="the end of the run")
        assert screen.result.status == 0, screen.result.to_json()
        assert not screen.result.failures and not screen.result.restored
        result = _text(screen, "#result")
        assert "What changed" in result and f"{layer} (dynamic_fixed_point-i16):" in result
        assert len(log.plain()) > 10
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        main = app.main
        assert main.model.by_layer[layer].customized == "dynamic_fixed_point-i16"
        assert main.model.file_qtypes[layer].split("/")[0] == "i16"
        row_text = "".join(seg.text for seg in main.table.render_line(
            main.model.index_of(layer) + 1 - main.table.scroll_offset.y))
        assert "i16" in row_text


@pytest.mark.engine
async def test_cancel_restores_the_file(sample, real_engine):
    before = sample.read_bytes()
    app = QuantedApp(QUANTIZE)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        log = screen.query_one(EngineLog)
        await pilot.press("enter")
        await wait_for(pilot, lambda: log.written >= 1, timeout=ENGINE_TIMEOUT,
                       what="the first engine line")
        assert screen.result is None
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: screen.result is not None, timeout=60, what="the cancel")
        assert screen.result.cancelled
        assert "restored" in _text(screen, "#run-state")
        assert "restored" in _text(screen, "#result")
        # The command line has the focus again (enter reruns): q would type, esc closes.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert sample.read_bytes() == before


def test_run_screen_snapshot(quantize, monkeypatch, snap_compare):
    """The finished run with the stand-in engine: log, the failure it logged, the report.
    Deterministic: fixed log times, `pegasus` from PATH, the stopwatch frozen."""
    from quanted.tui.widgets import engine_log

    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, RUN_STAND_IN, monkeypatch)
    monkeypatch.setattr(engine_log, "clock", lambda: 0.0)

    async def run(pilot) -> None:
        await settle(pilot)
        screen = await _open_run(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None, what="the stand-in run")
        await pilot.pause(0.3)
        screen.log_view.scroll_end(animate=False)  # where the log rests must not be timing
        # Not settle(): the editor's flow waits on this screen until it closes.
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(120, 40), run_before=run)


async def test_ten_thousand_log_lines_arrive_in_batches(quantize, monkeypatch):
    """10,000 coloured lines: written in a few batched writes, ctrl+q refused while running.
    The stand-in prints them, then waits for a flag file this test writes once it has seen
    every line: "still running" is a fact, not a race with a sleep."""
    folder = quantize.parent
    release = folder / "release"
    khadas_model_files(folder)
    install_stand_in(folder, RUN_STAND_IN.replace(
        'print("\\x1b[32mI 10:00:03 End',
        'import pathlib, time\nfor i in range(10000):\n'
        '    print(f"\\x1b[36mD 10:00:02 line {i}\\x1b[0m")\n'
        'sys.stdout.flush()\n'
        f'deadline = time.monotonic() + 120  # a test that died must not leave it behind\n'
        f'while not pathlib.Path({str(release)!r}).exists() and time.monotonic() < deadline:\n'
        '    time.sleep(0.01)\n'
        'print("\\x1b[32mI 10:00:03 End'), monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        log = screen.query_one(EngineLog)
        writes = []
        original_write = log.write
        monkeypatch.setattr(log, "write", lambda *a, **k: writes.append(1) or original_write(*a,
                                                                                             **k))
        await pilot.press("enter")
        await wait_for(pilot, lambda: log.written >= 1, timeout=30, what="the first line")
        await pilot.press("ctrl+q")
        assert app.is_running and screen.state == "running"
        await wait_for(pilot, lambda: log.written >= 10003, timeout=60, what="10,000 lines")
        assert screen.result is None  # the stand-in waits for the flag: the lines came live
        release.touch()
        await wait_for(pilot, lambda: screen.result is not None, timeout=60, what="the end")
        assert log.written == 10004
        assert len(writes) < 200  # batches, not one write per line
        assert log.plain()[-1].startswith("I 10:00:03 End quantization")


def test_run_screen_snapshot_80x24(quantize, monkeypatch, snap_compare):
    """Issue 12 item 6 at 80x24: the whole command in view, What changed below the log."""
    from quanted.tui.widgets import engine_log

    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, RUN_STAND_IN, monkeypatch)
    monkeypatch.setattr(engine_log, "clock", lambda: 0.0)

    async def run(pilot) -> None:
        await settle(pilot)
        screen = await _open_run(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None, what="the stand-in run")
        await pilot.pause(0.3)
        screen.log_view.scroll_end(animate=False)  # where the log rests must not be timing
        # Not settle(): the editor's flow waits on this screen until it closes.
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(80, 24), run_before=run)


async def test_command_line_whole_at_80_columns_and_enter_works_after_a_run(
        quantize, monkeypatch):
    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, RUN_STAND_IN, monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        command = screen.query_one("#command", CommandLine)
        assert len(command.value) > 150 and command.size.height >= 3  # wrapped, all in view
        await pilot.press("home")
        assert command.cursor_location == (0, 0)
        await pilot.press("end")
        assert command.cursor_location == command.document.end
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None, what="the stand-in run")
        assert app.focused is command  # enter runs again, as the footer says
        first = screen.result
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None and screen.result is not first,
                       what="the second run")
