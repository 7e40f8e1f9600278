"""Pilot tests: filter, sort, help, palette, save conflicts, quitting, layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.changed_on_disk import ChangedOnDisk
from quanted.tui.dialogs.filter_input import FilterBar
from quanted.tui.dialogs.quit_confirm import QuitConfirm
from quanted.tui.keymap import ALL_KEYS, display_key
from quanted.tui.screens.help import HelpScreen
from quanted.tui.screens.main import MainScreen
from quanted.tui.widgets.layer_table import LayerTable
from tui_helpers import FIFTH, KHADAS, TOP, settle

TOUCHED = b"# touched by a pegasus run\n"


async def test_filter_by_substring_and_regex_and_escape_clears(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        model = app.main.model
        total = len(model)
        await pilot.press("slash")
        assert app.main.query_one(FilterBar).display
        await pilot.press(*"depthwise_7", "enter")
        layers = [model.row_at(i).layer for i in range(len(model))]
        assert layers and all("depthwise_7" in layer for layer in layers)
        assert app.focused is app.main.table
        await pilot.press("slash", *"[", "enter")  # not a regex: a substring
        assert len(model) == 0
        await pilot.press("slash")
        for _ in range(20):
            await pilot.press("backspace")
        await pilot.press(*"conv2d_1[23]_point", "enter")  # regex, any case
        assert {model.row_at(i).layer.split("/")[2] for i in range(len(model))} == {
            "Conv2d_12_pointwise", "Conv2d_13_pointwise"}
        await pilot.press("escape")
        assert len(model) == total and model.filter_text == ""


async def test_filter_escape_while_typing_restores_the_previous_filter(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Relu", "enter", "slash", *"xyz")
        assert len(app.main.model) == 0
        await pilot.press("escape")
        assert app.main.model.filter_text == "Relu"
        assert not app.main.query_one(FilterBar).display


async def test_typing_a_pattern_re_warns_about_prints_no_warning(quantize, recwarn):
    """`[[` makes re warn (a possible nested set); the filter bar's hint and the filter
    compile it quietly, and it stays a substring."""
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"[[")
        assert app.main.model.filter_text == "[[" and len(app.main.model) == 0
    assert [str(w.message) for w in recwarn if issubclass(w.category, FutureWarning)] == []


async def test_sort_cycles_entropy_name_file_and_shows_the_top(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.main
        for _ in range(30):
            await pilot.press("down")
        assert main.table.scroll_y > 0
        seen = []
        for _ in range(3):
            await pilot.press("s")
            seen.append(main.model.sort)
            # The first rows of the new order are on screen, the cursor on the first.
            assert main.table.cursor == 0 and main.table.scroll_y == 0
            assert main.table.current.layer == main.model.row_at(0).layer
        assert seen == ["name", "file", "entropy"]
        await pilot.press("s")
        names = [main.model.row_at(i).layer for i in range(len(main.model))]
        assert names == sorted(names, key=lambda n: (n.casefold(), n))
        await pilot.press("s")
        assert main.table.current.order == 0


async def test_without_entropy_the_editor_works_in_file_order(quantize):
    (quantize.parent / "entropy.txt").unlink()
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main
        assert main.report is None and main.model.sort == "file"
        assert main.table.current.order == 0
        await pilot.press("greater_than_sign")
        assert isinstance(app.screen, MainScreen)  # nothing to compare a threshold with
        await pilot.press("space")
        assert main.doc.is_modified


async def test_explicit_entropy_option(quantize, tmp_path):
    other = tmp_path / "elsewhere.txt"
    (quantize.parent / "entropy.txt").rename(other)
    app = QuantedApp(KHADAS, other)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.main.table.current.layer == TOP


async def test_layers_missing_from_the_file_are_shown_and_flagged(quantize):
    data = quantize.read_bytes() + b"    ghost_layer_9: dynamic_fixed_point-i16\n"
    quantize.write_bytes(data)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        row = app.main.model.by_layer["ghost_layer_9"]
        assert not row.in_file and row.customized == "dynamic_fixed_point-i16"
        text = "\n".join(str(line) for line in app.main.query_one("#customized").lines)
        assert "! not in the file" in text
        await pilot.press("slash", *"ghost", "enter", "space")  # removing it is allowed
        assert "ghost_layer_9" not in app.main.doc.customized
        await pilot.press("space")  # adding a layer the file lacks is not
        assert "ghost_layer_9" not in app.main.doc.customized


def _touch(path: Path) -> bytes:
    data = path.read_bytes() + TOUCHED
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("choice", ["reload", "overwrite", "cancel"])
async def test_save_when_changed_on_disk_asks(quantize, original, choice):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        touched = _touch(quantize)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChangedOnDisk)
        await pilot.press({"reload": "r", "overwrite": "o", "cancel": "escape"}[choice])
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        doc = app.main.doc
        if choice == "reload":
            assert quantize.read_bytes() == touched
            assert not doc.is_modified and TOP in doc.customized
            assert doc.data == touched
        elif choice == "overwrite":
            line = f"    {TOP}: dynamic_fixed_point-i16\n".encode()
            assert quantize.read_bytes() == original.replace(line, b"")
            assert not doc.is_modified
        else:
            assert quantize.read_bytes() == touched
            assert doc.is_modified


async def test_a_change_just_before_the_rename_asks_too(quantize, original, monkeypatch):
    """Another program writes the file after the save's first check, while its temp file is
    written: the check just before the rename finds it, and the editor asks as ever."""
    real = QuantizeDocument._still_as_read
    calls: list[bytes] = []

    def late(self: QuantizeDocument) -> None:
        if len(calls) == 1:  # the save's second look: just before the rename
            calls.append(_touch(quantize))
        else:
            calls.append(b"")
        real(self)

    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        monkeypatch.setattr(QuantizeDocument, "_still_as_read", late)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChangedOnDisk)
        await pilot.press("escape")
        await settle(pilot)
        assert quantize.read_bytes() == calls[1]  # theirs, not overwritten
        assert app.main.doc.is_modified
        assert not [n for n in quantize.parent.iterdir() if n.name.endswith(".tmp")]


def _line(layer: str) -> bytes:
    return f"    {layer}: dynamic_fixed_point-i16\n".encode()


async def _edit_then_save_into_changed_on_disk(pilot, quantize, touched: bytes) -> None:
    """Remove TOP (the cursor row) and add FIFTH, then another writer leaves `touched` on disk
    and ctrl+s finds it changed."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("space")  # removes TOP
    app.main.table.rows_changed(keep=FIFTH)
    await pilot.press("space")  # adds FIFTH
    assert TOP not in app.main.doc.customized and FIFTH in app.main.doc.customized
    quantize.write_bytes(touched)
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(app.screen, ChangedOnDisk)
    said = str(app.screen.query_one("#changed-message").render())
    assert "re-apply your unsaved edits on top and save, in one step" in " ".join(said.split())
    assert "Keep my edits + save (k)" in str(app.screen.query_one("#keep").label)
    await pilot.press("k")
    await settle(pilot)
    assert isinstance(app.screen, MainScreen)


async def test_changed_on_disk_keep_my_edits_reloads_reapplies_and_saves(quantize, original):
    # Someone else removes a layer from the block and changes a value in quantize_parameters.
    other = _line("MobilenetV1/MobilenetV1/Conv2d_0/Conv2D_88")
    touched = original.replace(other, b"").replace(b"        -   129\n", b"        -   130\n", 1)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await _edit_then_save_into_changed_on_disk(pilot, quantize, touched)
        doc = app.main.doc
        assert not doc.is_modified
        on_disk = quantize.read_bytes()
        expected = QuantizeDocument(touched)
        expected.remove_layer(TOP)
        expected.set_layer(FIFTH, "dynamic_fixed_point-i16")
        assert on_disk == expected.to_bytes() == doc.data
        # byte-exact elsewhere: the other writer's file, less TOP's line, plus FIFTH's
        assert sorted(on_disk.splitlines(keepends=True)) == sorted(
            touched.replace(_line(TOP), b"").splitlines(keepends=True) + [_line(FIFTH)])
        assert b"-   130\n" in on_disk and other not in on_disk
        said = [str(n.message) for n in app._notifications]
        assert any("re-applied your edits and saved" in m for m in said), said
        assert "saved" in str(app.main.query_one("#status").render())


async def test_changed_on_disk_keep_my_edits_names_an_edit_whose_layer_is_gone(quantize,
                                                                             original):
    # Someone else drops FIFTH's tensors from quantize_parameters: adding it cannot be redone.
    lines, kept, dropping = original.splitlines(keepends=True), [], False
    for line in lines:  # its out0, weight and bias entries
        if not line.startswith(b"     "):
            dropping = line.startswith(f"    '@{FIFTH}:".encode())
        if not dropping:
            kept.append(line)
    touched = b"".join(kept)
    assert len(kept) < len(lines) - 20
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await _edit_then_save_into_changed_on_disk(pilot, quantize, touched)
        assert quantize.read_bytes() == touched  # nothing saved
        doc = app.main.doc
        assert doc.is_modified and TOP not in doc.customized and FIFTH not in doc.customized
        warning = [n for n in app._notifications if n.severity == "warning"]
        assert warning and f"{FIFTH}: not re-applied" in str(warning[-1].message)
        assert "not saved" in str(warning[-1].title)
        await pilot.press("ctrl+s")  # the rest, once looked at
        await settle(pilot)
        assert quantize.read_bytes() == touched.replace(_line(TOP), b"")


async def test_quit_without_changes_exits_at_once(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


@pytest.mark.parametrize("key", ["escape", "cancel-button"])
async def test_quit_with_unsaved_changes_asks_and_cancel_stays(quantize, original, key):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "ctrl+q")
        dialog = app.screen
        assert isinstance(dialog, QuitConfirm)
        assert "unsaved" in str(dialog.query_one("#quit-message").render())
        if key == "escape":
            await pilot.press("escape")
        else:
            await pilot.click("#cancel")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, MainScreen)
        assert app.main.doc.is_modified
    assert quantize.read_bytes() == original


async def test_quit_discard_leaves_the_file_alone(quantize, original):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "ctrl+q", "d")
        await pilot.pause()
        assert not app.is_running
    assert quantize.read_bytes() == original


async def test_quit_save_writes_then_exits(quantize, original):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "ctrl+q", "s")
        await settle(pilot)
        assert not app.is_running
    line = f"    {TOP}: dynamic_fixed_point-i16\n".encode()
    assert quantize.read_bytes() == original.replace(line, b"")


async def test_quit_from_a_dialog_closes_it_first(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "t", "ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitConfirm)


async def test_help_lists_every_key(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.query(".help-section, .help-key, .help-text")
        text = "\n".join(str(w.render()) for w in shown)
        for spec in ALL_KEYS:
            assert display_key(spec) in text and spec.tooltip in text
        for heading in ("Edit", "View", "File and app", "Engine", "Move"):
            assert f"{heading}\n" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_command_palette_runs_edit_commands(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"edit: Toggle layer")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert TOP not in app.main.doc.customized


async def test_keys_can_be_remapped_by_id(quantize):
    app = QuantedApp(KHADAS, keymap={"edit.toggle": "x"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert TOP not in app.main.doc.customized


@pytest.mark.parametrize(("width", "narrow"), [(80, True), (99, True), (100, False)])
async def test_panes_stack_below_100_columns(quantize, width, narrow):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        assert app.main.has_class("-narrow") == narrow
        table = app.main.query_one(LayerTable)
        pane = app.main.query_one("#customized")
        assert (pane.region.y > table.region.y) == narrow
        assert table.current.layer == TOP


async def test_unreadable_file_exits_with_code_2(workdir):
    (workdir / "bad.quantize").write_text("not: [a quantize\n")
    app = QuantedApp("bad.quantize")
    async with app.run_test(size=(80, 24)) as pilot:
        # Not settle(): waiting on the failed load worker would re-raise its error.
        for _ in range(200):
            if app.return_code is not None:
                break
            await pilot.pause(0.05)
    assert app.return_code == 2
    assert app.return_value is not None and "bad.quantize" in app.return_value


async def test_no_color_is_respected(quantize, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        # Marks are characters, not only colours: ● customized, * unsaved, ! missing.
        await pilot.press("space")
        table = app.main.table
        assert "".join(seg.text for seg in table.render_line(1))[:3] == " * "
