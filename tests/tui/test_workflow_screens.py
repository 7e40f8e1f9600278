"""h (the attempts, their diff against the current list, restore as an undoable edit) and e
(export). The export tests use a stand-in pegasus that writes an ovxlib-like case; the real
export is tested in tests/engine/test_workflow_engine.py."""

from __future__ import annotations

from engine_helpers import install_stand_in, khadas_model_files, plain, wait_for
from textual.widgets import DataTable, Static
from tui_helpers import FIFTH, KHADAS, REPO, TOP, settle

from quanted.core.document.model import QuantizeDocument
from quanted.core.state.history import History
from quanted.tui.app import QuantedApp
from quanted.tui.screens.export import ExportScreen
from quanted.tui.screens.history import HistoryScreen
from quanted.tui.screens.main import MainScreen

OTHER_BLOCK = ("customized_quantize_layers:\n"
               f"    {FIFTH}: float16  # tried float16 here\n")

# Writes NAME.export.data and main.c where --output-path says, like `pegasus export ovxlib`.
EXPORT_STAND_IN = """#!{python}
import pathlib, sys
a = sys.argv
out = pathlib.Path(a[a.index("--output-path") + 1])
out.parent.mkdir(parents=True, exist_ok=True)
pathlib.Path(str(out) + ".export.data").write_text("x")
(out.parent / "main.c").write_text("int main(void) {{ return 0; }}")
print("\\x1b[32mI 10:00:00 End exporting ovxlib case...\\x1b[0m", flush=True)
"""


def record_attempts(quantize) -> None:
    """Two attempts with fixed stamps: the file's own list (verified) and another one."""
    doc = QuantizeDocument.open(quantize)
    history = History(quantize)
    history.record("quantize", {"customized": doc.customized, "block": doc.block_text(),
                                "algorithm": "normal"}, stamp="20261127-050000-000000")
    history.record("verify", {"customized": {FIFTH: "float16"}, "block": OTHER_BLOCK,
                              "iterations": 4, "summary": {"quantized": {
                                  "mean_cosine": 0.998, "top1_agree": 4, "count": 4}}},
                   stamp="20261127-051500-000000")


async def open_history(pilot) -> HistoryScreen:
    await settle(pilot)
    await pilot.press("h")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen), what="history")
    await pilot.pause()
    return pilot.app.screen


async def test_history_lists_attempts_diffs_and_restores_as_one_undo(quantize):
    record_attempts(quantize)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        table = screen.query_one("#attempts", DataTable)
        assert table.row_count == 2 and table.cursor_row == 1  # the newest highlighted
        diff = plain(screen.query_one("#history-diff", Static).content)
        assert f"+{FIFTH}: float16" in diff and f"-{TOP}:" in diff
        assert "mean cosine 0.998000" in diff
        await pilot.press("up")
        await pilot.pause()
        assert "the same customized list as now" in plain(
            screen.query_one("#history-diff", Static).content)
        await pilot.press("down", "r")
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        assert main.doc.customized == {FIFTH: "float16"}
        assert main.doc.block_text() == OTHER_BLOCK  # byte for byte, comment included
        assert main.doc.is_modified
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert TOP in main.doc.customized and not main.doc.is_modified


async def test_history_refuses_an_attempt_whose_layers_are_gone(quantize, original):
    History(quantize).record("hybrid", {"customized": {"no_such_layer_7": "float16"}})
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_history(pilot)
        await pilot.press("r")
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen) and not main.doc.is_modified
        assert any("no_such_layer_7" in str(n.message) for n in app._notifications)
    assert quantize.read_bytes() == original


async def test_history_without_attempts_says_how_they_come(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        assert "No attempts yet" in plain(screen.query_one("#history-diff", Static).content)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


def test_history_diff_snapshot(quantize, snap_compare):
    record_attempts(quantize)
    assert snap_compare(QuantedApp(KHADAS), terminal_size=(120, 30), run_before=open_history)


async def open_export(pilot) -> ExportScreen:
    await settle(pilot)
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExportScreen), what="export")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.state == "done", what="the export to end")
    return screen


async def test_export_before_the_hybrid_run_is_refused_then_forced(quantize, monkeypatch):
    import sys

    khadas_model_files(quantize.parent)
    install_stand_in(quantize.parent, EXPORT_STAND_IN.format(python=sys.executable), monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_export(pilot)
        result = plain(screen.query_one("#export-result", Static).content)
        assert "the hybrid run has not been made" in result and "ctrl+f exports anyway" in result
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: screen.state == "done" and screen.ran, what="the export")
        await wait_for(pilot, lambda: "main.c" in plain(
            screen.query_one("#export-result", Static).content), what="the file listing")
        result = plain(screen.query_one("#export-result", Static).content)
        assert "khadas_mobilenet_tf_export" in result
        assert "khadas_mobilenet_tf.export.data" in result
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert (quantize.parent / "khadas_mobilenet_tf_export" / "main.c").is_file()


async def test_export_after_the_list_changed_is_refused_and_ctrl_r_opens_the_hybrid_run(
        quantize, monkeypatch):
    """The quantize.json is the last recorded hybrid run's (a stand-in file and record); the
    file's list changed since: e names the change, ctrl+r closes and opens the hybrid run."""
    import sys

    from quanted.tui.screens.run import RunScreen

    khadas_model_files(quantize.parent)
    model = quantize.with_name(quantize.name + ".json")
    model.write_text((quantize.parent / "khadas_mobilenet_tf.json").read_text())
    ran = {**QuantizeDocument.open(quantize).customized, FIFTH: "float16"}
    History(quantize).record("hybrid", {"customized": ran, "customized_after": ran})
    install_stand_in(quantize.parent, EXPORT_STAND_IN.format(python=sys.executable), monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_export(pilot)
        result = plain(screen.query_one("#export-result", Static).content, width=400)
        assert "the customized list changed since the hybrid run that made" in result
        assert f"removed {FIFTH}\n" in result
        assert "ctrl+r runs the hybrid quantization first; ctrl+f exports anyway." in result
        assert not (quantize.parent / "khadas_mobilenet_tf_export").exists()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="the hybrid run")
        assert not app.screen.ran  # offered, not started
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="the editor")
        await settle(pilot)


# -- the first quantization -------------------------------------------------------------------

QUANTIZE_STAND_IN = """#!{python}
import pathlib, sys
a = sys.argv
pathlib.Path(a[a.index("--model-quantize") + 1]).write_text({text!r})
pathlib.Path("entropy.txt").write_text("@c1_8:out0, 0.5\\n")
print("\\x1b[32mI 10:00:00 Dump net quantize tensor table\\x1b[0m", flush=True)
"""


async def test_a_model_without_quantize_offers_the_form_then_opens_the_result(
        tmp_path, monkeypatch):
    import sys

    from textual.widgets import Checkbox

    from quanted.tui.screens.quantize import QuantizeScreen
    from tests.core.docs import v2_doc

    for name in ("tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt"):
        (tmp_path / name).write_bytes((REPO / "sample_data" / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    made = v2_doc(customized="customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16\n")
    install_stand_in(tmp_path, QUANTIZE_STAND_IN.format(python=sys.executable, text=made),
                     monkeypatch)
    app = QuantedApp("tinynet.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, QuantizeScreen), what="the form")
        screen = app.screen
        command = plain(screen.query_one("#quantize-command", Static).content)
        assert "--rebuild --model-quantize tinynet_uint8.quantize" in command
        assert "--iterations 4 --compute-entropy" in command
        screen.query_one("#kld", Checkbox).value = True
        await pilot.pause()
        assert "--algorithm kl_divergence --batch-size 100" in plain(
            screen.query_one("#quantize-command", Static).content)
        screen.query_one("#kld", Checkbox).value = False
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="the editor")
        await settle(pilot)
        assert app.screen.doc.customized == {"c1_8": "dynamic_fixed_point-i16"}
    assert (tmp_path / "tinynet_uint8.quantize").read_text() == made
