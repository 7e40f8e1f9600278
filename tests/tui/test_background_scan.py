"""The editor opens the fast way and runs the full scan after the first paint: a bad line deep
in the tensor table is reported when the scan reaches it, and no save writes the file."""

from __future__ import annotations

from quanted.tui.app import QuantedApp
from tests.tui.tui_helpers import KHADAS


async def test_a_bad_table_line_is_reported_after_opening_and_saving_is_refused(
        workdir, quantize, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(workdir / "cache"))
    text = quantize.read_text()
    broken = text.replace("        method: layer\n", "       method: layer\n", 1)
    assert broken != text
    quantize.write_text(broken)
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):
            messages = [n.message for n in app._notifications]
            if any("bad indentation" in m for m in messages):
                break
            await pilot.pause(0.05)
        assert any(f"{KHADAS}:" in m and "bad indentation" in m for m in messages), messages
        assert app.main.doc is not None and app.main.model is not None  # the table is shown
        await pilot.press("space")
        await pilot.press("ctrl+s")
        for _ in range(400):
            if sum("bad indentation" in n.message for n in app._notifications) >= 2:
                break
            await pilot.pause(0.05)
        assert sum("bad indentation" in n.message for n in app._notifications) >= 2
    assert quantize.read_text() == broken
    left = sorted(p.name for p in workdir.iterdir() if not p.name.endswith(".lock"))
    assert left == ["entropy.txt", KHADAS]  # no temporary file left
