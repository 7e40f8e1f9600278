"""What a new user hit in the editor: the footer at 80x24, vim keys, ctrl+c and q,
ids that can be told apart, converter layers, and the small points of item 10."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from tui_helpers import KHADAS, settle

from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.open_report import OpenReport
from quanted.tui.dialogs.problems import ProblemsDialog
from quanted.tui.dialogs.quit_confirm import QuitConfirm
from quanted.tui.dialogs.threshold import ThresholdDialog
from quanted.tui.widgets.customized_pane import CustomizedPane
from quanted.tui.widgets.histogram import Histogram
from quanted.tui.widgets.key_hints import KeyHints
from quanted.tui.widgets.status_bar import StatusBar
from tests.core.docs import V2_HEADER, v2_tensor

CONVERTER = "c2_6_pre_asymmetric_affineu8_to_float16float16_12"


def table_rows(app, count: int) -> list[str]:
    table = app.main.table
    return [table.render_line(y).text for y in range(1, count + 1)]


async def test_footer_at_80_columns_keeps_help_and_quit(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first, engine = str(app.main.query_one(KeyHints).render()).split("\n")
        assert len(first) <= 80 and len(engine) <= 80
        assert first.rstrip().endswith("? Help  ^q Quit  ^p palette")
        assert "space Add/remove" in first  # the rest fills what is left, whole hints only
        # The engine steps on a line of their own: none of them fitted beside the edit keys.
        assert engine.split() == ["^r", "Hybrid", "run", "v", "Verify", "a", "Analyze", "h",
                                  "History", "T", "Tune", "e", "Export"]


async def test_vim_keys_move_the_cursor(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.main.table
        await pilot.press("j", "j")
        assert table.cursor == 2
        await pilot.press("k")
        assert table.cursor == 1
        await pilot.press("G")
        assert table.cursor == len(table.model) - 1
        await pilot.press("g")
        assert table.cursor == 0


@pytest.mark.parametrize("key", ["ctrl+c", "q"])
async def test_ctrl_c_and_q_quit_like_ctrl_q(quantize, key):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", key)
        await pilot.pause()
        assert isinstance(app.screen, QuitConfirm)  # unsaved changes: it asks
        await pilot.press("d")
        await pilot.pause()
    assert app.return_code == 0


async def test_q_without_changes_quits_at_once(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_rows_can_be_told_apart_and_the_pane_shows_ids_whole(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")  # by name: neighbours that share the most
        await pilot.pause()
        rows = table_rows(app, 9)
        names = [row[3:37].strip() for row in rows]
        assert len(set(names)) == len(names), names
        depthwise = [n for n in names if "depthwise" in n and "_pre:" not in n]
        assert depthwise and all("Conv2d_" in n for n in depthwise), names
        pane = app.main.query_one(CustomizedPane)
        text = "".join(str(line)[2:] for line in pane.lines)  # marks and indents left out
        for layer in app.main.doc.customized:
            assert layer + ":" in text  # whole, though wrapped over lines


async def test_palette_shows_each_commands_key(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Toggle layer")
        await pilot.pause(0.5)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        prompts = [str(palette.query_one("CommandList").get_option_at_index(i).prompt)
                   for i in range(palette.query_one("CommandList").option_count)]
        assert any("edit: Toggle layer" in p and "space" in p for p in prompts), prompts


async def test_histogram_marker_says_the_threshold_the_status_says(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = f"{app.main.threshold:.4g}"
        assert f"▲{shown}" in str(app.main.query_one(Histogram).render())
        assert f"≥ {shown}" in str(app.main.query_one(StatusBar).render())


async def test_threshold_dialog_words_and_the_filter(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Conv2d_1_pointwise", "enter")
        await pilot.pause()
        await pilot.press("greater_than_sign")
        assert isinstance(app.screen, ThresholdDialog)
        app.screen.query_one("Input").value = "0.0"
        await pilot.pause()
        preview = str(app.screen.query_one("#threshold-preview").render())
        # only the layers the filter shows; the one it shows is customized already
        assert preview.startswith("66 layers at or above 0") or "all of them" in preview
        assert "0 of them" not in preview
        assert app.screen.preview(0.0)[0] == 0


def converter_doc() -> str:
    body = (v2_tensor("@c1_8:out0") + v2_tensor("@c2_6:out0", qtype="float16")
            + v2_tensor(f"@{CONVERTER}:out0") + v2_tensor("@logits_2:out0"))
    return V2_HEADER + body + "customized_quantize_layers:\n  c2_6: float16\n"


def converter_app(tmp_path, monkeypatch) -> QuantedApp:
    """The editor on converter_doc(), with an entropy report that ranks the converter first."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m_uint8.quantize").write_text(converter_doc())
    (tmp_path / "entropy.txt").write_text(
        f"@{CONVERTER}:out0, 0.9\n@logits_2:out0, 0.5\n@c1_8:out0, 0.2\n")
    return QuantedApp("m_uint8.quantize")


async def test_converter_layers_are_marked_and_never_added(tmp_path, monkeypatch):
    app = converter_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = table_rows(app, 4)
        converter_row = next(r for r in rows if "c2_6_pre:u8→float16_12" in r)
        assert converter_row.startswith("⇄")
        assert app.main.model.layers_to_add(0.0) == ["logits_2", "c1_8"]
        float16_row = next(r for r in rows if r[3:].startswith("c2_6 "))
        assert " f16 " in float16_row and "float1 " not in float16_row


async def test_space_and_t_on_a_converter_are_refused_and_bulk_add_skips_it(tmp_path,
                                                                          monkeypatch):
    app = converter_app(tmp_path, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main
        main.table.rows_changed(keep=CONVERTER)
        assert main.table.current.layer == CONVERTER
        before = main.doc.to_bytes()
        for key in ("space", "t"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is main  # no qtype picker either
            assert main.doc.to_bytes() == before and not main.doc.is_modified
            refusal = [n for n in app._notifications if CONVERTER in str(n.message)]
            assert refusal and str(refusal[-1].message).endswith(
                "converter layer inserted by the engine; it cannot be customized.")
            assert refusal[-1].severity == "warning"
            app.clear_notifications()
        await pilot.press("greater_than_sign")
        await pilot.pause()
        assert isinstance(app.screen, ThresholdDialog)
        field = app.screen.query_one("#threshold-input")
        field.value = "0"
        await pilot.press("enter")
        await settle(pilot)
        # the converter has the worst entropy, yet only the file's own layers were added
        assert set(main.doc.customized) == {"c2_6", "logits_2", "c1_8"}


async def test_problems_show_on_open_and_are_listed(sample):
    bad = "  /layer2/layer2.1/Add_output_0_12: dynamic_fixed_point-i16\n"
    text = sample.read_text().replace("customized_quantize_layers:\n",
                                      "customized_quantize_layers:\n" + bad, 1)
    sample.write_text(text)
    app = QuantedApp(sample.name)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = str(app.main.query_one(StatusBar).render())
        assert "1 error (! lists)" in status
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsDialog)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main.table.current.layer == "/layer2/layer2.1/Add_output_0_12"


async def test_the_palette_opens_another_report(public_copy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    public_copy(KHADAS)
    public_copy("khadas_mobilenet_tf_entropy.txt", "old_run_entropy.txt")
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main.report is None  # not named for this file: a note says so
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenReport)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert app.main.report is not None
        assert app.main.report.path.name == "old_run_entropy.txt"


async def test_threshold_dialog_explains_its_start(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("greater_than_sign")
        await pilot.pause()
        why = str(app.screen.query_one("#threshold-why").render())
        assert "lowest max entropy among the layers already customized" in why
