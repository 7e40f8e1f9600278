"""Command palette: every main-screen key as a command, named "group: Verb object", with
its key beside it (after any remapping), so the palette also teaches the keys."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from quanted.tui.keymap import ALIASES, ALL_KEYS, KeySpec, display_key
from quanted.tui.widgets.key_hints import pretty

COMMANDS = tuple(spec for spec in ALL_KEYS if spec.id not in ALIASES)


class QuantedCommands(Provider):
    """Offered by the main screen only, so dialogs show no editing commands."""

    def _run(self, spec: KeySpec) -> None:
        target = self.screen if spec.id.split(".")[0] != "app" else self.app
        self.app.call_later(target.run_action, spec.action)

    def _key(self, spec: KeySpec) -> str:
        return pretty(display_key(spec, getattr(self.app, "keymap_overrides", None)))

    def _shown(self, spec: KeySpec, name: Content | str) -> Content:
        name = name if isinstance(name, Content) else Content(name)
        return Content.assemble(name, "  ", (self._key(spec), "bold $text-accent"))

    async def discover(self) -> Hits:
        for spec in COMMANDS:
            yield DiscoveryHit(self._shown(spec, spec.command), partial(self._run, spec),
                               text=spec.command, help=spec.tooltip)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec in COMMANDS:
            score = matcher.match(spec.command)
            if score > 0:
                yield Hit(score, self._shown(spec, matcher.highlight(spec.command)),
                          partial(self._run, spec), text=spec.command, help=spec.tooltip)
