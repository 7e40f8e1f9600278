"""Keys typed before the editor is ready, kept and applied once it is (a terminal's type-ahead).

The editor paints the top rows first and builds the rest in a thread; an edit before that
finishes has no document to change. Such keys are held in the order they came, and replayed
through the app's normal key handling when the load is installed, one per refresh (a key may
open a dialog or the filter, which must be focused before the next key arrives). Once one key
is held, every later key is held too until the queue is empty, so the order typed is the order
applied: a ctrl+q after an early space asks about the unsaved edit. Until then the keys that
only move the cursor over the top rows shown, and a ctrl+q with nothing held, act at once.
"""

from __future__ import annotations

from collections import deque

from textual import events
from textual.message import Message


class Ready(Message):
    """Posted by the editor once its document and rows are installed: replay what is held."""


class TypeAhead:
    def __init__(self) -> None:
        self.held: deque[events.Key] = deque()

    def hold(self, event: events.Key, loading: bool, acts_now: bool) -> bool:
        """True when `event` is kept for later (the caller then does not handle it).
        `acts_now`: the key only moves the cursor over the rows shown, or quits (with nothing
        typed ahead there is nothing to lose)."""
        if self.held or (loading and not acts_now):
            self.held.append(events.Key(event.key, event.character))
            return True
        return False

    def next(self) -> events.Key | None:
        """The oldest held key, taken off the queue (None when none is left)."""
        return self.held.popleft() if self.held else None
