"""ctrl+b on the run screen (ctrl+r): the command line switches between --hybrid and --rebuild,
and a rebuild runs through the core's quantize run (history copy, carry-over of the user's
entries and comments), then the editor reloads the file. A stand-in pegasus plays the engine
here; the real rebuild of the sample is tests/engine/test_run_rebuild_engine.py."""

from __future__ import annotations

from engine_helpers import install_stand_in, khadas_model_files, plain, wait_for
from textual.widgets import Label, Static

from quanted.tui.widgets.command_line import CommandLine
from tui_helpers import FIFTH, KHADAS, PUBLIC, TOP, settle

from quanted.core.document.model import QuantizeDocument
from quanted.core.state.history import History
from quanted.tui.app import QuantedApp
from quanted.tui.screens.main import MainScreen
from quanted.tui.screens.run import RunScreen

# What the stand-in engine pre-fills into the fresh file (the fixture's first entry).
ENGINE_ENTRY = "MobilenetV1/Logits/AvgPool_1a/AvgPool_7"
USER_BLOCK = ("customized_quantize_layers:\n"
              "    # reviewed by hand\n"
              f"    {TOP}: dynamic_fixed_point-i16  # mine\n"
              f"    {FIFTH}: float16  # tried float16 here\n"
              "    no_such_layer_7: float16\n")

# A stand-in for `pegasus quantize --rebuild`: records its arguments, writes a fresh file (the
# fixture's tensor table with only the engine's own entry) where --model-quantize says, and
# entropy.txt, like the engine does.
REBUILD_STAND_IN = """#!{python}
import pathlib, sys
a = sys.argv[1:]
with open("calls.log", "a") as log:
    log.write(" ".join(a) + "\\n")
table = pathlib.Path({source!r}).read_text().split("customized_quantize_layers:")[0]
target = pathlib.Path(a[a.index("--model-quantize") + 1])
target.write_text(table + "customized_quantize_layers:\\n    {entry}: dynamic_fixed_point-i16\\n")
pathlib.Path("entropy.txt").write_bytes(pathlib.Path({entropy!r}).read_bytes())
print("I 10:00:00 Start quantization...", flush=True)
print("I 10:00:01 Dump net quantize tensor table", flush=True)
"""


def _stand_in(folder, monkeypatch) -> None:
    import sys

    khadas_model_files(folder)
    install_stand_in(folder, REBUILD_STAND_IN.format(
        python=sys.executable, source=str((PUBLIC / KHADAS).resolve()),
        entropy=str(folder / "entropy.txt"), entry=ENGINE_ENTRY), monkeypatch)


def _user_file(quantize) -> bytes:
    """The fixture with the user's own list: comments, a retype, a layer that does not exist."""
    text = quantize.read_text().split("customized_quantize_layers:")[0] + USER_BLOCK
    quantize.write_text(text)
    return quantize.read_bytes()


async def _open_run(pilot) -> RunScreen:
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunScreen), what="the run screen")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.query_one("#command", CommandLine).value,
                   what="the command")
    return screen


async def _toggle(pilot, screen: RunScreen, flag: str) -> str:
    command = screen.query_one("#command", CommandLine)
    await pilot.press("ctrl+b")
    await wait_for(pilot, lambda: flag in command.value.split(), what=f"a {flag} line")
    return command.value


async def test_ctrl_b_rebuilds_carries_the_users_entries_over_and_reloads(quantize, monkeypatch):
    folder = quantize.parent
    _stand_in(folder, monkeypatch)
    before = _user_file(quantize)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        hybrid_line = screen.query_one("#command", CommandLine).value
        assert "--hybrid" in hybrid_line.split()
        rebuild_line = await _toggle(pilot, screen, "--rebuild")
        # The zero-config line becomes the one `quanted quantize` runs for this very file.
        assert rebuild_line.startswith("pegasus quantize --model khadas_mobilenet_tf.json ")
        assert "--hybrid" not in rebuild_line and f"--model-quantize {KHADAS}" in rebuild_line
        assert "--compute-entropy" in rebuild_line.split()
        assert str(screen.query_one("#run-title", Label).content).startswith("Rebuild")
        assert await _toggle(pilot, screen, "--hybrid") == hybrid_line
        assert await _toggle(pilot, screen, "--rebuild") == rebuild_line
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.result is not None, what="the stand-in rebuild")
        assert screen.result.status == 0 and not screen.result.restored
        calls = (folder / "calls.log").read_text().split()
        assert "--rebuild" in calls and "--hybrid" not in calls
        result = plain(screen.query_one("#result", Static).content)
        assert "carried over 2 customized layer(s)" in result
        assert "not carried over: no_such_layer_7: float16" in result
        assert "Rebuilt" in plain(screen.query_one("#run-state", Static).content)

        # On disk: the engine's fresh file with the user's entries and comments put back.
        doc = QuantizeDocument.open(quantize)
        assert doc.customized == {ENGINE_ENTRY: "dynamic_fixed_point-i16",
                                  TOP: "dynamic_fixed_point-i16", FIFTH: "float16"}
        block = doc.block_text()
        assert f"{TOP}: dynamic_fixed_point-i16  # mine\n" in block
        assert f"{FIFTH}: float16  # tried float16 here\n" in block
        assert "# reviewed by hand" in block
        history = History(quantize)
        copy = next(e for e in history.entries() if e.kind == "before-quantize")
        assert history.path_of(copy).read_bytes() == before
        assert history.entries()[-1].kind == "quantize"

        await pilot.press("escape")
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        assert main.doc is not None and main.model is not None
        assert main.doc.customized == doc.customized and not main.doc.is_modified
        assert main.model.by_layer[ENGINE_ENTRY].customized == "dynamic_fixed_point-i16"
        assert main.model.by_layer[FIFTH].customized == "float16"


async def test_an_edited_line_keeps_its_words_and_only_the_flag_switches(
        quantize, original, monkeypatch):
    _stand_in(quantize.parent, monkeypatch)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _open_run(pilot)
        command = screen.query_one("#command", CommandLine)
        edited = command.value + " --batch-size 2"
        command.value = edited
        assert await _toggle(pilot, screen, "--rebuild") == edited.replace("--hybrid",
                                                                           "--rebuild")
        assert await _toggle(pilot, screen, "--hybrid") == edited
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert quantize.read_bytes() == original
    assert not (quantize.parent / "calls.log").exists()
