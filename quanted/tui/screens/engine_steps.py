"""The engine steps the editor opens, by name: a key whose action is `engine_step('NAME')`
(keymap.MAIN_KEYS) saves first (asking), then opens ENGINE_STEPS[NAME] on the open document
(MainScreen.engine_step_flow). A new step is its screen (see engine_base.py), one entry here
and one KeySpec."""

from __future__ import annotations

from quanted.tui.screens.analyze import AnalyzeScreen
from quanted.tui.screens.engine_base import EngineScreen
from quanted.tui.screens.export import ExportScreen
from quanted.tui.screens.run import RunScreen
from quanted.tui.screens.tune import TuneScreen
from quanted.tui.screens.verify import VerifyScreen

ENGINE_STEPS: dict[str, type[EngineScreen]] = {
    "hybrid": RunScreen,
    "verify": VerifyScreen,
    "analyze": AnalyzeScreen,
    "export": ExportScreen,
    "tune": TuneScreen,
}
