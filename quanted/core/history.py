"""`.quanted/history/` beside a .quantize file: copies taken before engine runs, and records
of what each run and verification found, so the user can go back and compare attempts."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HISTORY_DIR = Path(".quanted") / "history"
INDEX = "history.jsonl"


@dataclass(frozen=True)
class Entry:
    time: str
    kind: str  # "before-hybrid", "verify", ...
    file: str | None  # the copy, relative to the history folder
    data: dict
    id: str = ""  # "1", "2", ... in recording order; the time stamp for entries made before ids

    @property
    def is_copy(self) -> bool:
        return self.file is not None


class History:
    def __init__(self, quantize: Path) -> None:
        self.quantize = quantize
        self.folder = quantize.parent / HISTORY_DIR

    def _stamp(self) -> str:
        return datetime.now().strftime("%Y%m%d-%H%M%S-%f")

    def save_copy(self, kind: str, extra: dict | None = None, source: Path | None = None) -> Path:
        """Copy the file (metadata too) into the history folder and record it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = self._stamp()
        source = source or self.quantize
        target = self.folder / f"{self.quantize.name}.{stamp}.{kind}"
        shutil.copy2(source, target)
        self.record(kind, {"source": source.name, **(extra or {})}, copy=target, stamp=stamp)
        return target

    def record(self, kind: str, data: dict, copy: Path | None = None, stamp: str | None = None) -> Entry:
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = Entry(stamp or self._stamp(), kind, copy.name if copy else None, data,
                      self._next_id())
        line = json.dumps({"id": entry.id, "time": entry.time, "kind": kind, "file": entry.file,
                           "data": data})
        with open(self.folder / INDEX, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return entry

    def entries(self, kind: str | None = None) -> list[Entry]:
        index = self.folder / INDEX
        if not index.is_file():
            return []
        found = []
        for line in index.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
                entry = Entry(raw["time"], raw["kind"], raw.get("file"), raw.get("data") or {},
                              str(raw.get("id") or raw["time"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash must not hide the rest
            if kind is None or entry.kind == kind:
                found.append(entry)
        return found

    def _next_id(self) -> str:
        """One more than the highest numeric id so far: short enough to type."""
        numbers = [int(e.id) for e in self.entries() if e.id.isdigit()]
        return str(max(numbers, default=0) + 1)

    def find(self, entry_id: str) -> Entry | None:
        for entry in self.entries():
            if entry.id == entry_id:
                return entry
        return None

    def path_of(self, entry: Entry) -> Path | None:
        if entry.file is None:
            return None
        path = self.folder / entry.file
        return path if path.is_file() else None

    def first_copy(self, kind: str) -> Path | None:
        for entry in self.entries(kind):
            path = self.path_of(entry)
            if path is not None:
                return path
        return None
