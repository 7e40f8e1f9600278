"""Every key binding as data: id, key, action, footer text, tooltip, palette command.

`App.set_keymap({"edit.toggle": "x"})` remaps by id (posting's habit). The help screen and the
command palette are generated from the same table, so they cannot drift from the bindings.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class KeySpec:
    id: str
    key: str
    action: str
    description: str  # short: the footer
    tooltip: str  # one sentence: footer tooltip, help screen, palette help
    command: str  # the command palette name, "group: Verb object"
    show: bool = True
    key_display: str | None = None
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.key, self.action, self.description, show=self.show, key_display=self.key_display,
            priority=self.priority, tooltip=self.tooltip, id=self.id,
        )


# Bindings of the main screen (its actions live on quanted.tui.screens.main.MainScreen;
# `engine_step('NAME')` opens quanted.tui.screens.engine_steps.ENGINE_STEPS[NAME]).
MAIN_KEYS: tuple[KeySpec, ...] = (
    KeySpec("edit.toggle", "space", "toggle_layer", "Add/remove",
            "Add the highlighted layer to customized_quantize_layers, or remove it.",
            "edit: Toggle layer", key_display="space"),
    KeySpec("edit.qtype", "t", "choose_qtype", "Qtype",
            "Choose the qtype of the highlighted layer (adds it if needed).",
            "edit: Choose qtype"),
    KeySpec("edit.threshold", "greater_than_sign", "add_above_threshold", "Add ≥",
            "Add every layer at or above a threshold of max entropy, or of drop after m (one "
            "undo step; only the layers the filter shows; never converter layers, nor layers "
            "without the figure). Entropy starts at the lowest max entropy among the "
            "customized layers (every layer at least as bad as one already chosen), or at the "
            "top 5% when none is; drop at the top 5% of the analysed layers (never below the "
            "smallest drop above 0): customized layers were measured raised, so their drop "
            "says nothing.",
            "edit: Add layers at or above a threshold", key_display=">"),
    KeySpec("edit.comment", "c", "edit_comment", "Comment",
            "Edit the comment kept on the highlighted customized layer's line.",
            "edit: Edit comment", show=False),
    KeySpec("edit.undo", "ctrl+z", "undo", "Undo", "Undo the last edit.", "edit: Undo",
            show=False),
    KeySpec("edit.redo", "ctrl+y", "redo", "Redo", "Redo the edit undone last.", "edit: Redo",
            show=False),
    KeySpec("view.filter", "slash", "filter", "Filter",
            "Show only layers whose id matches a substring or regular expression.",
            "view: Filter layers", key_display="/"),
    KeySpec("view.clear_filter", "escape", "clear_filter", "Clear filter",
            "Clear the layer filter.", "view: Clear filter", show=False),
    KeySpec("view.sort", "s", "cycle_sort", "Sort",
            "Cycle the sort: max entropy, layer name, order in the file.", "view: Cycle sort"),
    KeySpec("view.metric", "m", "switch_metric", "Entropy/drop",
            "Switch what the histogram, the threshold and > rank layers by: max entropy, or "
            "drop (from the analysis a made, current or stale). Each keeps its own threshold.",
            "view: Switch histogram and > between entropy and drop", show=False),
    KeySpec("file.save", "ctrl+s", "save", "Save",
            "Save the file (only the customized block changes).", "file: Save"),
    KeySpec("engine.hybrid", "ctrl+r", "engine_step('hybrid')", "Hybrid run",
            "Save, then rerun pegasus quantize --hybrid on the file: editable command, live log, "
            "per-layer failures and what changed.",
            "engine: Run pegasus --hybrid"),
    KeySpec("engine.verify", "v", "engine_step('verify')", "Verify",
            "Save, then run float and quantized inference and compare their top-5, cosine and "
            "top-1 (with the history of attempts).",
            "engine: Verify float vs quantized"),
    KeySpec("engine.analyze", "a", "engine_step('analyze')", "Analyze",
            "Save, then compare every layer's float and quantized output (cosine, drop: the "
            "damage each layer does itself); the table gains COS and DROP.",
            "engine: Analyze per-layer error"),
    KeySpec("file.history", "h", "app.history", "History",
            "Every attempt at the customized list (rebuilds, hybrid runs, verifies, tunes), "
            "its diff against the current list, and restore as an undoable edit.",
            "history: Show attempts"),
    KeySpec("engine.export", "e", "engine_step('export')", "Export",
            "Save, then run pegasus export ovxlib from the hybrid model (NAME_POSTFIX.quantize."
            "json) into NAME_POSTFIX_export/, with the log and the files written.",
            "engine: Export ovxlib case", show=False),
    KeySpec("engine.tune", "T", "engine_step('tune')", "Tune",
            "Search for the fewest layers to raise so quantized meets float (trials in scratch "
            "folders), then apply them as one undoable edit.", "engine: Tune (automatic hybrid)"),
    KeySpec("view.problems", "exclamation_mark", "show_problems", "Problems",
            "List what `quanted check` finds in the file (the status line counts them on "
            "open); enter goes to the layer.", "view: List problems", show=False,
            key_display="!"),
    KeySpec("file.open_report", "o", "open_report", "Open report",
            "Open another entropy report (NAME_entropy.txt, NAME.entropy.txt and entropy.txt "
            "beside the file are found by themselves).", "file: Open entropy report…",
            show=False),
    # `q` quits from the main screen only: in dialogs and inputs it is a letter.
    KeySpec("app.quit_q", "q", "app.quit", "Quit",
            "Quit (as ctrl+q; asks first when there are unsaved changes).", "app: Quit (q)",
            show=False),
)

# Bindings of the app (active on every screen).
APP_KEYS: tuple[KeySpec, ...] = (
    KeySpec("app.help", "question_mark", "help", "Help", "Show every key.", "app: Help",
            key_display="?"),
    KeySpec("app.quit", "ctrl+q", "quit", "Quit",
            "Quit; asks first when there are unsaved changes.", "app: Quit", priority=True),
    # Not priority: a focused input copies with ctrl+c, and the engine screens cancel with it.
    KeySpec("app.quit_ctrl_c", "ctrl+c", "quit", "Quit",
            "Quit, as ctrl+q (in an input ctrl+c copies; while pegasus runs it cancels).",
            "app: Quit (ctrl+c)", show=False),
)

# Second keys for an action another spec already offers: in help, not again in the palette.
ALIASES = ("app.quit_q", "app.quit_ctrl_c")

# Footer keys kept visible at any width (the rest are cut first, and listed in ? and ctrl+p).
PINNED = ("app.help", "app.quit")

# The engine steps: on a footer line of their own when one line cannot hold every key (80
# columns showed none of them), export included.
ENGINE_LINE = ("engine.hybrid", "engine.verify", "engine.analyze", "file.history",
               "engine.tune", "engine.export")

# Keys of the layers table (vim's j/k/g/G beside the arrows).
TABLE_KEYS: tuple[KeySpec, ...] = (
    KeySpec("table.up", "up,k", "cursor(-1)", "Up", "Move the cursor up.", "", show=False),
    KeySpec("table.down", "down,j", "cursor(1)", "Down", "Move the cursor down.", "",
            show=False),
    KeySpec("table.page_up", "pageup", "page(-1)", "Page up", "Move a page up.", "", show=False),
    KeySpec("table.page_down", "pagedown", "page(1)", "Page down", "Move a page down.", "",
            show=False),
    KeySpec("table.home", "home,g", "jump(0)", "First", "First row.", "", show=False),
    KeySpec("table.end", "end,G", "jump(-1)", "Last", "Last row.", "", show=False),
)

# Keys of the table itself (not remappable through the palette; listed on the help screen).
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("↑ ↓  k j", "Move the cursor"),
    ("pgup pgdn", "Move a page"),
    ("home end  g G", "First / last row"),
    ("tab", "Next pane (the customized list scrolls with ↑ ↓)"),
    ("ctrl+p", "Command palette"),
)

# Keys of the hybrid-run and verify screens (their actions live on screens/engine_base.py).
ENGINE_SCREEN_KEYS: tuple[KeySpec, ...] = (
    KeySpec("engine.cancel", "escape", "cancel_or_close", "Cancel/close",
            "While pegasus runs: cancel it (the file is restored); after: close the screen.",
            "engine: Cancel or close"),
    KeySpec("engine.interrupt", "ctrl+c", "interrupt", "Cancel",
            "Cancel the running pegasus (elsewhere ctrl+c copies).", "engine: Cancel run",
            show=False, priority=True),
    KeySpec("engine.close", "q", "close", "Close",
            "Close the screen (outside the command line); the editor reloads the file.",
            "engine: Close"),
)
RUN_KEYS: tuple[KeySpec, ...] = (
    KeySpec("run.start", "enter", "start", "Run",
            "Run the command in the command line (edit it first, or paste the line "
            "pegasus_quantize.sh printed: --rebuild becomes --hybrid).", "run: Start",
            key_display="enter"),
    KeySpec("run.force", "ctrl+f", "force", "Run anyway",
            "Run although the check found errors (unknown layers or qtypes).",
            "run: Run anyway (force)"),
    KeySpec("run.rebuild", "ctrl+b", "toggle_rebuild", "Rebuild/hybrid",
            "Switch the command line between --hybrid and --rebuild: a rebuild writes a fresh "
            "file and carries your customized entries and comments over.",
            "run: Switch between --hybrid and --rebuild"),
)
VERIFY_KEYS: tuple[KeySpec, ...] = (
    KeySpec("verify.log", "l", "toggle_log", "Log/result",
            "Switch between the result and the engine log.", "verify: Toggle log"),
    KeySpec("verify.inputs", "i", "edit_inputs", "Inputs",
            "Change how many dataset inputs verify runs on (default: all of them); enter "
            "reruns.", "verify: Change the input count"),
    KeySpec("verify.rerun", "r", "rerun", "Rerun",
            "Run verify again on the input count in the field.", "verify: Rerun"),
)

QUANTIZE_KEYS: tuple[KeySpec, ...] = (
    KeySpec("quantize.start", "ctrl+r", "start", "Quantize",
            "Run pegasus quantize --rebuild --compute-entropy with these options; the editor "
            "opens the file it writes.", "quantize: Start"),
    KeySpec("quantize.close", "escape", "cancel_or_close", "Cancel/close",
            "While pegasus runs: cancel it; else close quanted.", "quantize: Cancel or close"),
)
HISTORY_KEYS: tuple[KeySpec, ...] = (
    KeySpec("history.restore", "r", "restore", "Restore",
            "Make the customized list the highlighted attempt's (one undo step; save to keep).",
            "history: Restore attempt"),
    KeySpec("history.close", "escape", "close", "Close", "Back to the editor.",
            "history: Close"),
)
EXPORT_KEYS: tuple[KeySpec, ...] = (
    KeySpec("export.force", "ctrl+f", "force", "Export anyway",
            "Export although the case would miss customized layers or the folder is not empty.",
            "export: Export anyway (force)"),
    KeySpec("export.hybrid", "ctrl+r", "hybrid_first", "Hybrid run",
            "When the export was refused because the hybrid model is stale: close, then rerun "
            "the hybrid quantization (export again after it).", "export: Hybrid run first"),
)
TUNE_KEYS: tuple[KeySpec, ...] = (
    KeySpec("tune.start", "enter", "start", "Start",
            "Start the search with the target typed (enter in the target field).", "tune: Start",
            key_display="enter"),
    KeySpec("tune.apply", "a", "apply", "Apply",
            "Make the set found the file's customized list (one undoable edit), then offer the "
            "hybrid run.", "tune: Apply the result"),
)

ALL_KEYS: tuple[KeySpec, ...] = MAIN_KEYS + APP_KEYS


def display_key(spec: KeySpec, overrides: dict[str, str] | None = None) -> str:
    """How the help screen writes the key, after any user remapping."""
    if overrides and spec.id in overrides:
        return overrides[spec.id]
    return spec.key_display or spec.key
