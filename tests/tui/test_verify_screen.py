"""v: the verify screen. Quick tests use the khadas fixture with stand-in model files and the
stand-in pegasus of tests/cli/verify_stand_in.py (dump_results files as acuitylite writes
them), or none; the `engine` test runs acuitylite 6.57.1 on a copy of the sample model."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static, TabbedContent

from engine_helpers import install_stand_in, khadas_model_files, plain, wait_for
from quanted.core.engine.attempts import verify_history
from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.save_first import SaveFirst
from quanted.tui.screens.main import MainScreen
from quanted.tui.screens.verify import VerifyScreen
from tests.cli.verify_stand_in import STAND_IN
from tui_helpers import KHADAS, settle

ENGINE_TIMEOUT = 120


async def _start_verify(pilot) -> VerifyScreen:
    await pilot.press("v")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, VerifyScreen),
                   what="the verify screen")
    return pilot.app.screen


def _finished(screen: VerifyScreen):
    return lambda: screen.result is not None or screen.state == "done"


async def test_pegasus_not_found_is_shown_not_a_crash(quantize, no_pegasus):
    khadas_model_files(quantize.parent)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _start_verify(pilot)
        await wait_for(pilot, _finished(screen), what="the failure")
        text = plain(screen.query_one("#verify-result", Static).content)
        assert "pegasus not found" in text and "QUANTED_PEGASUS" in text
        assert "Not run" in plain(screen.query_one("#verify-step", Static).content)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_stand_in_verify_shows_top5_side_by_side_and_the_history(quantize, monkeypatch):
    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "v")  # unsaved: asks first
        assert isinstance(app.screen, SaveFirst)
        await pilot.press("s")
        screen = await _start_verify(pilot)
        await wait_for(pilot, _finished(screen), what="the stand-in verify")
        assert screen.result is not None
        text = plain(screen.query_one("#verify-result", Static).content)
        assert "float32 (class: probability)" in text and "quantized" in text
        assert "3: 0.600000" in text and "cosine" in text and "top-5 overlap" in text
        assert screen.query_one("#history", DataTable).row_count == 1
        assert "Done: 2 inference runs" in plain(screen.query_one("#verify-step", Static).content)
        await pilot.press("l")
        assert screen.query_one(TabbedContent).active == "log-tab"
        assert any("Start inference" in line for line in screen.log_view.plain())


async def test_a_failing_inference_shows_its_command_and_last_lines(quantize, monkeypatch):
    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    monkeypatch.setenv("STAND_IN_FAIL", "float")
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _start_verify(pilot)
        await wait_for(pilot, _finished(screen), what="the failure")
        text = plain(screen.query_one("#verify-result", Static).content)
        assert "float32 failed with status 5" in text
        assert "$ pegasus inference" in text and "out of memory" in text


async def test_cancel_while_running(quantize, monkeypatch):
    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    monkeypatch.setenv("STAND_IN_HANG", "float")
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _start_verify(pilot)
        await wait_for(pilot, lambda: screen.log_view.written >= 2, what="the hanging run")
        await pilot.press("escape")
        await wait_for(pilot, _finished(screen), timeout=20, what="the cancel")
        assert "Cancelled" in plain(screen.query_one("#verify-step", Static).content)
        assert verify_history(quantize) == []
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


@pytest.mark.engine
async def test_verify_on_the_sample(sample, real_engine):
    before = len(verify_history(sample))
    app = QuantedApp(sample.name)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _start_verify(pilot)
        await wait_for(pilot, _finished(screen), timeout=ENGINE_TIMEOUT, what="the verify")
        result = screen.result
        assert result is not None, plain(screen.query_one("#verify-result", Static).content)
        text = plain(screen.query_one("#verify-result", Static).content, width=200)
        assert "float32 (class: probability)" in text and "quantized" in text
        tensor = result.tensors[0]
        for cls, prob in result.float_top5[tensor][0]:
            assert f"{cls}: {prob:.6f}" in text
        for cls, prob in result.quantized[tensor][0].top5:
            assert f"{cls}: {prob:.6f}" in text
        assert screen.query_one("#history", DataTable).row_count == before + 1


def test_verify_screen_snapshot(quantize, monkeypatch, snap_compare):
    """The finished verify with the stand-in engine. Deterministic: fixed dumps, the history
    stamp and the stopwatch frozen, `pegasus` from PATH."""
    from quanted.core.history import History
    from quanted.tui.widgets import engine_log

    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    monkeypatch.setattr(engine_log, "clock", lambda: 0.0)
    monkeypatch.setattr(History, "_stamp", lambda self: "20260102-030405-000000")

    async def run(pilot) -> None:
        await settle(pilot)
        screen = await _start_verify(pilot)
        await wait_for(pilot, _finished(screen), what="the stand-in verify")
        await pilot.pause(0.3)

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(120, 40), run_before=run)


async def test_the_palette_offers_both_engine_commands(quantize, no_pegasus):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"engine: Verify")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, VerifyScreen), what="verify")
        await wait_for(pilot, _finished(app.screen), what="the not-found message")
        await pilot.press("q")
        await pilot.press("ctrl+p", *"engine: Run peg")
        await pilot.pause(0.5)
        await pilot.press("enter")
        from quanted.tui.screens.run import RunScreen

        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
