"""The run screen's --rebuild (ctrl+r, then ctrl+b) against the real engine (acuitylite
6.57.1): one rebuild of the sample from the editor writes the sample's tensor table again and
carries the user's customized entry and its comment over."""

from __future__ import annotations

import shlex
import time

import pytest
from quanted.tui.widgets.command_line import CommandLine

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.state.history import History
from quanted.tui.app import QuantedApp
from quanted.tui.screens.main import MainScreen
from quanted.tui.screens.run import RunScreen
from tests.conftest import SAMPLE, SAMPLE_QUANTIZE
from tests.tui.tui_helpers import settle

pytestmark = pytest.mark.engine

LAYER = "layer2/layer2.1/Add_output_0_12"  # the worst entropy the engine does not pre-fill
ENGINE_TIMEOUT = 300


async def until(pilot, condition, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.05)


def tensor_table(text: str) -> str:
    return text.split("customized_quantize_layers:")[0]


async def test_rebuild_from_the_run_screen_rewrites_the_sample_and_carries_the_user_entry(
        sample_model, pegasus, monkeypatch):
    monkeypatch.chdir(sample_model)
    monkeypatch.setenv("QUANTED_PEGASUS", shlex.join(pegasus))
    path = sample_model / SAMPLE_QUANTIZE
    for name in (SAMPLE_QUANTIZE, "entropy.txt"):
        (sample_model / name).write_bytes((SAMPLE / name).read_bytes())
    assert main(["add", str(path), LAYER, "--comment", "kept across the rebuild"]) == 0
    # The user's file differs from what the engine writes in its tensor table too: a rebuild
    # must write the engine's table again, not keep this one.
    edited = path.read_text().replace("max_value:", "max_value:  ", 1)
    path.write_text(edited)
    app = QuantedApp(SAMPLE_QUANTIZE)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
        screen = app.screen
        command = screen.query_one("#command", CommandLine)
        await until(pilot, lambda: "--hybrid" in command.value.split(), what="the command")
        await pilot.press("ctrl+b")
        await until(pilot, lambda: "--rebuild" in command.value.split(), what="the rebuild")
        assert f"--model-quantize {SAMPLE_QUANTIZE}" in command.value
        await pilot.press("enter")
        await until(pilot, lambda: screen.result is not None, timeout=ENGINE_TIMEOUT,
                    what="the end of the rebuild")
        assert screen.result.status == 0, screen.result.to_json()
        assert not screen.result.restored
        assert screen.result.carry is not None and LAYER in screen.result.carry.carried
        await pilot.press("escape")
        await settle(pilot)
        main_screen = app.screen
        assert isinstance(main_screen, MainScreen) and main_screen.doc is not None
        assert main_screen.doc.customized[LAYER] == "dynamic_fixed_point-i16"
        assert not main_screen.doc.is_modified
    written = path.read_text()
    assert tensor_table(written) == tensor_table((SAMPLE / SAMPLE_QUANTIZE).read_text())
    assert (sample_model / "entropy.txt").read_bytes() == (SAMPLE / "entropy.txt").read_bytes()
    doc = QuantizeDocument.open(path)
    assert f"  {LAYER}: dynamic_fixed_point-i16  # kept across the rebuild\n" in doc.block_text()
    engine_list = QuantizeDocument.open(SAMPLE / SAMPLE_QUANTIZE).customized
    assert doc.customized == {**engine_list, LAYER: "dynamic_fixed_point-i16"}
    history = History(path)
    copy = next(e for e in history.entries() if e.kind == "before-quantize")
    assert history.path_of(copy).read_text() == edited
