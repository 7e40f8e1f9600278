"""One problem `check` reports: severity, message, line, layer, and what kind it is."""

from __future__ import annotations

from typing import NamedTuple

ERROR = "error"
WARNING = "warning"


class Problem(NamedTuple):
    severity: str
    message: str
    line: int | None = None
    layer: str | None = None
    # "yaml": the engine's YAML loader (ruamel.yaml, as acuitylite runs it) rejects the file.
    code: str | None = None

    def format(self, path: str) -> str:
        where = f"{path}:{self.line}" if self.line is not None else path
        return f"{where}: {self.severity}: {self.message}"
