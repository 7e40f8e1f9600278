"""The editor meets the file's lock and its read-only bit: another quanted changing
the file is said in a dialog and the edits stay; a read-only file asks before writing."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest
from tui_helpers import FIFTH, KHADAS, settle

from quanted.core.disk import files
from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.save_refused import FileInUse, ReadOnlyFile

HOLDER = """
import sys
from pathlib import Path
from quanted.core.disk.files import locked
with locked(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def held(quantize):
    """The file's lock, held by another process for the whole test; its pid."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(quantize)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    yield holder.pid
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait()


async def test_a_save_while_another_quanted_writes_says_so_and_keeps_the_edit(
        quantize, original, held, monkeypatch):
    monkeypatch.setattr(files, "LOCK_WAIT_S", 0.0)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "space", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FileInUse)
        text = str(app.screen.query_one("#in-use-message").render())
        assert f"is being changed by another quanted (pid {held})" in text
        await pilot.press("enter")
        assert not isinstance(app.screen, FileInUse)
        assert app.main.doc.is_modified and FIFTH in app.main.doc.customized
    assert quantize.read_bytes() == original


async def test_a_read_only_file_asks_and_keeps_its_mode(quantize, original):
    quantize.chmod(0o444)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "space", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReadOnlyFile)
        assert quantize.read_bytes() == original
        await pilot.press("w")
        await settle(pilot)
        assert not app.main.doc.is_modified
    assert FIFTH.encode() in quantize.read_bytes()
    assert stat.S_IMODE(quantize.stat().st_mode) == 0o444


async def test_an_escape_in_a_layer_id_is_drawn_escaped(quantize):
    text = quantize.read_text()
    odd = "MobilenetV1/Odd\x1b[31mLayer"
    key = f"'@{FIFTH}:out0'"
    assert key in text
    quantize.write_text(text.replace(key, f"'@{odd}:out0'", 1))
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        main = app.main
        index = main.model.index_of(odd)
        assert index is not None
        main.table.cursor = index
        await settle(pilot)
        row = "".join(seg.text for seg in main.table.render_line(
            index + 1 - main.table.scroll_offset.y))
        assert "\x1b" not in row and "Odd\\x1b[31mLayer" in row
