"""v: the verify screen. Quick tests use the khadas fixture with stand-in model files and the
stand-in pegasus of tests/cli/verify_stand_in.py (dump_results files as acuitylite writes
them), or none; the `engine` test runs acuitylite 6.57.1 on a copy of the sample model."""

from __future__ import annotations

import sys

import pytest
from textual.widgets import DataTable, Input, Label, Static, TabbedContent

from engine_helpers import install_stand_in, khadas_model_files, plain, wait_for
from quanted.cli import main
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


async def test_the_quantized_line_and_a_task_check_as_quanted_verify_says_them(
        quantize, monkeypatch, tmp_path, capsys):
    """STAND-IN engine. Under the figures, what the quantized run measured, the line
    `quanted verify` prints; a check command typed beside the inputs runs again with the user's
    task check (the core call of --check), its verdict and metric on screen, and the next
    verify screen of the session starts with it."""
    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    script = tmp_path / "check.py"
    script.write_text("import sys\nprint('metric=0.875')\nsys.exit(0)\n")
    command = f"{sys.executable} {script}"
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _start_verify(pilot)
        await wait_for(pilot, _finished(screen), what="the verify")
        assert screen.result is not None and screen.result.check is None
        quantized = f"quantized: {screen.result.configuration}"
        assert quantized in plain(screen.query_one("#verify-result", Static).content)

        field = screen.query_one("#verify-check", Input)
        assert field.value == ""
        field.focus()
        field.value = command
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None
                       and screen.result.check is not None, what="the verify with the check")
        text = plain(screen.query_one("#verify-result", Static).content)
        assert f"check {screen.result.check}:" in text
        assert "quantized: acceptable (metric=0.875)" in text
        assert app.task_check == command
        await pilot.press("escape")
        await settle(pilot)
        again = await _start_verify(pilot)
        assert again.query_one("#verify-check", Input).value == command
        await wait_for(pilot, _finished(again), what="the second screen's verify")
        assert again.result is not None and again.result.check is not None
        await pilot.press("escape")
        await settle(pilot)
    capsys.readouterr()
    assert main(["verify", str(quantize), "--quiet"]) == 0
    assert quantized in capsys.readouterr().out.splitlines()


def _dataset_of(folder, count: int) -> None:
    """The khadas inputmeta pointing at a TEXT dataset of `count` inputs."""
    from engine_helpers import KHADAS_MODEL

    (folder / f"{KHADAS_MODEL}_inputmeta.yml").write_text(
        "input_meta:\n  databases:\n  - path: dataset.txt\n    type: TEXT\n")
    (folder / "dataset.txt").write_text("".join(f"input_{i}.npy\n" for i in range(count)))


def _iterations_asked(folder) -> list[str]:
    calls = (folder / "calls.log").read_text().splitlines()
    return [call.split("--iterations ")[1].split()[0] for call in calls]


async def test_the_input_count_defaults_to_the_dataset_and_i_changes_it(quantize, monkeypatch):
    """STAND-IN engine. Two verifies on 3 inputs, then 1 input with a better cosine: the star
    stays among the 3-input runs while 3 is asked for, and moves only to like with like."""
    khadas_model_files(quantize.parent)
    _dataset_of(quantize.parent, 3)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _start_verify(pilot)
        field = screen.query_one("#verify-inputs", Input)
        assert field.value == "3"
        assert "of 3 in the dataset" in plain(
            screen.query_one("#verify-inputs-hint", Static).content)
        await wait_for(pilot, _finished(screen), what="the verify on 3 inputs")
        assert screen.result is not None and screen.result.iterations == 3
        assert _iterations_asked(quantize.parent) == ["3", "3"]

        await pilot.press("r")  # rerun on the same 3
        await wait_for(pilot, lambda: screen.result is not None and len(
            verify_history(quantize)) == 2, what="the second verify")
        await pilot.press("i")
        assert app.focused is field
        await pilot.press("backspace", "x", "0")  # not a number: refused as typed
        assert field.value == "0"
        await pilot.press("enter")  # 0 inputs: refused, nothing runs
        assert screen.state == "done" and field.has_class("-invalid")
        await pilot.press("backspace", "1", "enter")
        assert app.focused is not field  # keys go to the screen again while it runs
        await wait_for(pilot, lambda: screen.result is not None and len(
            verify_history(quantize)) == 3, what="the verify on 1 input")
        assert screen.result.iterations == 1
        assert _iterations_asked(quantize.parent)[4:] == ["1", "1"]
        attempts = verify_history(quantize)
        assert [a.iterations for a in attempts] == [3, 3, 1]
        history = screen.query_one("#history", DataTable)
        marks = [str(history.get_row_at(i)[0]).strip() for i in range(history.row_count)]
        assert marks == ["", "", "★ ←"]  # the only 1-input run is the best of its kind
        assert "on 1 input:" in plain(screen.query_one("#history-title", Label).content)

        await pilot.press("i", "backspace", "3", "enter")
        await wait_for(pilot, lambda: len(verify_history(quantize)) == 4, what="3 again")
        await wait_for(pilot, lambda: screen.state == "done", what="the screen")
        marks = [str(history.get_row_at(i)[0]).strip() for i in range(history.row_count)]
        # three equal 3-input runs: ties go to the newest; the 1-input run is not compared
        assert marks == ["", "", "", "★ ←"]
        rows = [history.get_row_at(i) for i in range(history.row_count)]
        assert rows[2][0].style == "dim" and rows[3][5].plain == "3"


async def test_verify_after_keep_my_edits_runs_on_the_file_as_saved(quantize, monkeypatch):
    """STAND-IN engine. Save first finds the file changed on disk; Keep my edits reloads,
    re-applies and saves: verify then runs on (and records) that document, not the old one."""
    from quanted.tui.dialogs.changed_on_disk import ChangedOnDisk
    from tui_helpers import TOP

    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    other = b"    MobilenetV1/MobilenetV1/Conv2d_0/Conv2D_88: dynamic_fixed_point-i16\n"
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space")  # removes TOP
        quantize.write_bytes(quantize.read_bytes().replace(other, b""))
        await pilot.press("v", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, ChangedOnDisk), what="the dialog")
        await pilot.press("k")
        screen = await _start_verify(pilot)
        assert screen.doc is app.main.doc and not screen.doc.is_modified
        await wait_for(pilot, _finished(screen), what="the stand-in verify")
        recorded = verify_history(quantize)[-1].customized
        assert TOP not in recorded and "MobilenetV1/MobilenetV1/Conv2d_0/Conv2D_88" not in recorded
        assert recorded == app.main.doc.customized


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
        # every input of the sample's dataset by default, as its field says
        inputs = len((sample.parent / "dataset.txt").read_text().split())
        assert inputs > 1 and result.iterations == inputs
        assert screen.query_one("#verify-inputs", Input).value == str(inputs)
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
    from quanted.core.state.history import History
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


async def test_the_headline_figures_are_on_screen_first_at_80x24(quantize, monkeypatch):
    """Four inputs make four per-input tables: the summary comes before them, on screen."""
    khadas_model_files(quantize.parent)
    _dataset_of(quantize.parent, 4)
    install_stand_in(quantize.parent, STAND_IN, monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _start_verify(pilot)
        await wait_for(pilot, _finished(screen), what="the stand-in verify")
        await pilot.pause()
        text = plain(screen.query_one("#verify-result", Static).content, width=76)
        assert text.lstrip().startswith("quantized: mean cosine ")
        assert text.count("iteration ") == 4
        result = screen.query_one("#verify-result", Static)
        body = screen.query_one("#verify-body")
        assert body.scroll_y == 0 and result.region.y < app.size.height - 3  # on screen


def test_a_collapsed_output_in_the_verify_table_and_the_editor(tmp_path):
    import json

    from quanted.cli.verify_table import table_lines
    from quanted.core.engine.output_figures import VALUES
    from quanted.core.engine.verify_result import figures
    from quanted.tui.screens.verify import result_view
    from tests.core.test_output_figures import detector_scores, uint8

    model = tmp_path / "m.json"
    model.write_text(json.dumps({"Layers": {
        "attach_scores/out0_0": {"op": "output", "inputs": ["@scores_1:out0"]},
        "scores_1": {"op": "add", "inputs": []}}}))
    key = "@attach_scores/out0_0:out0"
    floats = detector_scores(2)
    low, high = min(float(f.min()) for f in floats), max(float(f.max()) for f in floats)
    values = {"float": {key: [f.reshape(1, 64) for f in floats]},
              "quantized": {key: [uint8(f, low, high).reshape(1, 64) for f in floats]}}
    result = figures(values, quantize=tmp_path / "m_uint8.quantize", iterations=4,
                     customized={}, float_model=model, kinds={}, notes=[],
                     plain_source=None)
    assert result.kinds == {key: VALUES} and result.shapes == {key: (1, 64)}
    text = "\n".join(table_lines(result))
    assert "top-5" in text and "(values: no top-5)" in text  # "no top-5" is all it says
    row = next(line for line in text.splitlines() if line.startswith(f"  {key}"))
    assert row.split()[1] == "values" and row.endswith("COLLAPSED")
    assert f"  collapsed: {key}: " in text and "worst cosine" in text
    shown = plain(result_view(result))
    assert "COLLAPSED" in shown and "collapsed: " in shown and "top-1" not in shown
