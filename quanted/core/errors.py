"""Errors the core raises; the CLI maps them to exit codes and one-line messages."""

from __future__ import annotations

from pathlib import Path


class QuantedError(Exception):
    """Base class. Formats as `PATH[:LINE[:COL]]: message`."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.col = col

    def location(self) -> str:
        parts = [self.path or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


class ReadError(QuantedError):
    """The input cannot be read, or is not a .quantize / entropy file (exit 2)."""

    exit_code = 2


class EngineNotFound(QuantedError):
    """No pegasus to run (core/engine/discovery.py finds it); here so that the CLI can name
    it without importing the engine package for every `add`."""

    exit_code = 2


class EditError(QuantedError):
    """An edit was refused: unknown layer, unknown qtype, ... (exit 1, nothing written)."""


class FileChangedError(QuantedError):
    """The file changed on disk since it was read; saving would lose those changes."""


class HistoryWarning(UserWarning):
    """Something in `.quanted/` was ignored (a bad line, a planted link, a path outside)."""


def describe(error: BaseException | None) -> str:
    """One line for any error: a QuantedError as `PATH[:LINE]: message`, others with their type."""
    return str(error) if isinstance(error, QuantedError) else f"{type(error).__name__}: {error}"
