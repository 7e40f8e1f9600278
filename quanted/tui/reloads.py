"""Reading the open file again: what the editor says afterwards, and the changed-on-disk
dialog's "Keep my edits" (read the file from disk, re-apply the unsaved edits on it, save: one
step). Helpers of MainScreen (main.py is at its size limit); `screen` is that screen, as the
Editor it is (importing it would be a cycle)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from quanted.core.errors import describe
from quanted.core.document.rebase import reload_keeping_edits
from quanted.tui import loading
from quanted.tui.screens.editor import Editor


class Reloading(Editor, Protocol):
    """The editor that shows what a reload read (editor.py cannot name loading's types:
    loading imports it)."""

    def install(self, result: loading.Loaded, reloaded: bool) -> None: ...


def announce(screen: Editor, reloaded: bool, skipped: list[str] | None) -> None:
    """After a load: `skipped` is None unless the unsaved edits were replayed (then: the ones
    that could not be)."""
    if skipped is None:
        if reloaded:
            screen.notify(f"Reloaded {screen.display_name} from disk.")
    elif skipped:
        screen.notify("Not replayed:\n" + "\n".join(skipped),
                      title="Reloaded, keeping edits", severity="warning", timeout=12)
    else:
        screen.notify("Your unsaved edits were replayed on the file from disk (unsaved).")


async def keep_edits_and_save(screen: Reloading) -> bool:
    """The file as another writer left it, with the unsaved edits re-applied on top, saved.
    An edit that cannot be re-applied (its layer is gone) is named and nothing is saved: the
    others stay as unsaved edits, for the user to look at first. True when the file on disk
    holds the edits."""
    doc = screen.doc
    assert doc is not None  # only a save of an open file finds it changed on disk
    screen.busy = "reloading, keeping your edits…"
    try:
        fresh, skipped = await asyncio.to_thread(reload_keeping_edits, doc)
        result = await asyncio.to_thread(loading.from_doc, fresh, screen.report)
    except Exception as error:  # noqa: BLE001 - any failure is shown; the edits stay
        screen.busy = ""
        screen.notify(describe(error), title="reload failed", severity="error", timeout=8)
        return False
    screen.install(result, reloaded=True)
    name = screen.display_name
    if skipped:
        screen.notify("\n".join(skipped) + "\nThe other edits are re-applied, not saved "
                      "(ctrl+s saves them).", title=f"Reloaded {name}; not saved",
                      severity="warning", timeout=15)
        return False
    if not fresh.is_modified:
        screen.notify(f"Reloaded {name}: the file on disk already holds your edits.")
        return True
    return bool(await screen.saved(said=f"Reloaded {name} from disk, re-applied your edits "
                                        "and saved."))
