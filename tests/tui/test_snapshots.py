"""SVG snapshots: main screen, quit dialog, help, and the 80x24 stacked layout.

Deterministic: a fixed terminal size, the public fixture copied to tmp_path and opened by a
relative name from there (no tmp path on screen), no cursor blink (conftest), every worker
finished before the picture. Update with `pytest tests/tui --snapshot-update` and look at them.
"""

from __future__ import annotations

from quanted.tui.app import QuantedApp
from tui_helpers import KHADAS, settle


async def _ready(pilot) -> None:
    await settle(pilot)


def test_main_screen(quantize, snap_compare):
    assert snap_compare(QuantedApp(KHADAS), terminal_size=(120, 40), run_before=_ready)


def test_main_screen_with_edits(quantize, snap_compare):
    async def edit(pilot) -> None:
        await settle(pilot)
        await pilot.press("space", "down", "down", "down", "down", "space", "t", "down", "enter")

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(120, 40), run_before=edit)


def test_quit_dialog(quantize, snap_compare):
    async def quit_with_changes(pilot) -> None:
        await settle(pilot)
        await pilot.press("space", "ctrl+q")
        await pilot.pause()

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(120, 40), run_before=quit_with_changes)


def test_help_screen(quantize, snap_compare):
    async def help_open(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(120, 40), run_before=help_open)


def test_80x24_layout(quantize, snap_compare):
    assert snap_compare(QuantedApp(KHADAS), terminal_size=(80, 24), run_before=_ready)


def test_80x24_filter_bar(quantize, snap_compare):
    async def filtering(pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"pointwise")
        await pilot.pause()

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(80, 24), run_before=filtering)


def test_80x24_help(quantize, snap_compare):
    async def help_open(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(80, 24), run_before=help_open)
