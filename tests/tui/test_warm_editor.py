"""The editor and the warm engine: nothing starts it before an engine key (the first paint
never waits for it); the first engine key starts it in the background; it stays for the
session. With the STAND-IN pegasus of tests/core/warm_standin.py (the real fork server)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from engine_helpers import khadas_model_files, wait_for
from quanted.core.engine import warm
from quanted.tui.app import QuantedApp
from quanted.tui.screens.main import MainScreen
from quanted.tui.screens.verify import VerifyScreen
from tui_helpers import KHADAS, settle

STANDIN = Path(__file__).resolve().parents[1] / "core" / "warm_standin.py"


async def _verify_once(pilot) -> None:
    await pilot.press("v")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, VerifyScreen),
                   what="the verify screen")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.result is not None or screen.state == "done",
                   what="the stand-in's answer")
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen),
                   what="the editor again")


async def test_the_first_engine_key_starts_the_engine_for_the_session(quantize, monkeypatch):
    khadas_model_files(quantize.parent)
    monkeypatch.setenv("QUANTED_PEGASUS", shlex.join([sys.executable, str(STANDIN)]))
    monkeypatch.delenv(warm.MODE_VAR, raising=False)
    warm.shutdown()
    try:
        app = QuantedApp(KHADAS)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert not warm.running()  # painted, loaded: no engine yet
            await _verify_once(pilot)
            server = warm._server
            assert server is not None and server.ready.is_set() and server.failure is None
            await _verify_once(pilot)
            assert warm._server is server and server.alive()  # the same one, kept
    finally:
        warm.shutdown()
