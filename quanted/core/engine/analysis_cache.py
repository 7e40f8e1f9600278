"""The analysis cache in `.quanted/analysis/` beside the .quantize file.

- `FILE.<key>.json`: one analysis result per state of everything it depends on. The key is a
  sha256 over the .quantize bytes, both model .json files, NAME.data, the inputmeta, the dataset
  listing and the input files it names for the N inputs used, and N. A result whose key is not
  the current one is stale (the file or the model changed since).
- `float-<key>/`: the float run's probe dumps, keyed the same way minus the .quantize file and
  the quantized model: editing the .quantize file reuses them, so a new analysis after an edit
  costs one engine run. The newest few are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from quanted.core.disk.files import glob_escape

CACHE_DIR = Path(".quanted") / "analysis"
# Part of every key: change FLOAT_SCHEME when the float dumps change, SCHEME when the figures do.
FLOAT_SCHEME = "probes-1"
SCHEME = "figures-3"  # 3: per-output figures and the configuration
KEEP_FLOAT = 3
KEEP_RESULTS = 20  # per .quantize file: the newest ones (each edit makes a new one)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_inputs(inputmeta: Path, iterations: int) -> list[Path]:
    """The listing (TEXT database) and the files its first `iterations` lines name, relative
    to the inputmeta's folder; for other database types, the database file itself."""
    try:
        from ruamel.yaml import YAML

        meta = YAML(typ="safe").load(inputmeta.read_text(encoding="utf-8"))
        databases = meta["input_meta"]["databases"]
    except Exception:  # noqa: BLE001 - an odd inputmeta: its bytes are hashed anyway
        return []
    found: list[Path] = []
    for database in databases if isinstance(databases, list) else []:
        if not isinstance(database, dict) or not database.get("path"):
            continue
        listing = inputmeta.parent / str(database["path"])
        if not listing.is_file():
            continue
        found.append(listing)
        if str(database.get("type", "TEXT")).upper() != "TEXT":
            continue
        lines = [ln for ln in listing.read_text(encoding="utf-8", errors="replace").splitlines()
                 if ln.strip()]
        for i in range(min(iterations, len(lines)) if lines else 0):
            for word in lines[i].split():
                candidate = listing.parent / word
                if candidate.is_file():
                    found.append(candidate)
    return found


def compute_key(parts: Sequence[tuple[str, Path | None]], iterations: int,
                scheme: str = SCHEME) -> str:
    """sha256 over the scheme, N and (label, content digest) of each part."""
    digest = hashlib.sha256(f"{scheme}\n{iterations}\n".encode())
    for label, path in parts:
        value = file_digest(path) if path is not None and path.is_file() else "-"
        digest.update(f"{label}\t{value}\n".encode())
    return digest.hexdigest()


class AnalysisCache:
    def __init__(self, quantize: Path) -> None:
        self.quantize = quantize
        self.folder = quantize.parent / CACHE_DIR

    def _result_path(self, key: str) -> Path:
        return self.folder / f"{self.quantize.name}.{key[:24]}.json"

    def load_result(self, key: str) -> dict | None:
        path = self._result_path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("key") == key else None

    def store_result(self, key: str, data: dict) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._result_path(key)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, target)
        results = sorted(self._results(), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in results[KEEP_RESULTS:]:
            old.unlink(missing_ok=True)
        return target

    def _results(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return list(self.folder.glob(f"{glob_escape(self.quantize.name)}.*.json"))

    def latest_result(self) -> dict | None:
        """The newest stored result for this file, current or not."""
        newest: dict | None = None
        for path in self._results():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and str(data.get("time", "")) > str(
                    (newest or {}).get("time", "")):
                newest = data
        return newest

    def float_dumps(self, key: str) -> Path | None:
        folder = self.folder / f"float-{key[:24]}"
        return folder if (folder / "complete").is_file() else None

    def store_float(self, key: str, source: Path) -> Path:
        """Move a finished float dump folder into the cache (a copy across file systems)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"float-{key[:24]}"
        staging = self.folder / f".float-{uuid.uuid4().hex[:12]}.tmp"
        shutil.move(str(source), str(staging))
        (staging / "complete").write_text(key + "\n", encoding="utf-8")
        try:
            os.replace(staging, target)
        except OSError:
            # Another analysis stored the same float run first (renaming onto a non-empty
            # folder fails): keep that one, a reader may be using it.
            shutil.rmtree(staging, ignore_errors=True)
            if not (target / "complete").is_file():
                raise
        self._prune_float(keep=target)
        return target

    def _prune_float(self, keep: Path) -> None:
        folders = sorted((p for p in self.folder.glob("float-*") if p.is_dir() and p != keep),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in folders[KEEP_FLOAT - 1:]:
            shutil.rmtree(old, ignore_errors=True)
