"""Command palette: every main-screen key as a command, named "group: Verb object"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from quanted.tui.keymap import ALL_KEYS, KeySpec


class QuantedCommands(Provider):
    """Offered by the main screen only, so dialogs show no editing commands."""

    def _run(self, spec: KeySpec) -> None:
        target = self.screen if spec.id.split(".")[0] != "app" else self.app
        self.app.call_later(target.run_action, spec.action)

    async def discover(self) -> Hits:
        for spec in ALL_KEYS:
            yield DiscoveryHit(spec.command, partial(self._run, spec), help=spec.tooltip)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec in ALL_KEYS:
            score = matcher.match(spec.command)
            if score > 0:
                yield Hit(score, matcher.highlight(spec.command), partial(self._run, spec),
                          text=spec.command, help=spec.tooltip)
