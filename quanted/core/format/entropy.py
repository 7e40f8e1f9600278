"""entropy.txt: `TENSOR_KEY, FLOAT` lines, higher = worse precision (docs/format.md section 4),
and the one place that decides which report belongs to a .quantize file.

numpy is imported when a report's `values` array is first used, not here: `resolve` runs in
every command, `quanted add` on a 15 MB file has a 0.3 s budget, and the editor paints its top
rows before numpy loads."""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Container, Iterator, Sequence
from itertools import compress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from quanted.core.errors import ReadError
from quanted.core.disk.files import read_bytes
from quanted.core.format.keys import split_tensor_key

if TYPE_CHECKING:
    import numpy as np

# What `pegasus quantize --compute-entropy` writes, always in its working directory.
ENGINE_WRITES = "entropy.txt"


@dataclass(frozen=True)
class Summary:
    count: int
    minimum: float
    maximum: float
    mean: float
    median: float


_PIECE = 1 << 18


def _parse_line(text_line: str, number: int, label: str, keys: list[str],
                numbers: list[float]) -> None:
    """Line `number` onto keys and numbers (a blank line adds nothing), or the ReadError that
    names what is wrong with it."""
    stripped = text_line.strip()
    if not stripped:
        return
    key, sep, value = stripped.rpartition(",")
    key = key.strip()
    if not sep or not key:
        raise ReadError(f"expected 'TENSOR_KEY, VALUE', got {_shorten(stripped)!r}",
                        label, number)
    try:
        parsed = float(value)
    except ValueError:
        raise ReadError(f"not a number: {_shorten(value.strip())!r}", label, number) from None
    if math.isnan(parsed):
        raise ReadError("entropy is NaN", label, number)
    keys.append(key)
    numbers.append(parsed)


def _well_formed(lines: list[str]) -> tuple[list[str], list[float]] | None:
    """The keys and values of `lines` when every one is a plain `KEY, VALUE` line, else None
    (then the line-by-line parse skips the blank ones and names the bad one). Whole-list
    passes: a third of the line-by-line time, on the editor's path to its first paint."""
    parts = [line.rpartition(",") for line in lines]
    keys = [key.strip() for key, _, _ in parts]
    if not all(keys):  # a blank line, no comma, or no key
        return None
    try:
        values = list(map(float, [value for _, _, value in parts]))
    except ValueError:
        return None
    return None if any(map(math.isnan, values)) else (keys, values)


_ARRAY_MADE = threading.Lock()


class EntropyReport:
    """Parsed entropy.txt: parallel arrays of tensor keys and values, in file order.

    `values` (numpy) is made on first use: the editor's first paint needs only `highest` and
    `bounds`, and importing numpy is a fifth of its time."""

    def __init__(self, keys: list[str], values: Sequence[float] | np.ndarray,
                 path: Path | None = None) -> None:
        self.keys = keys
        self._numbers: list[float] | None = None
        self._values: np.ndarray | None = None
        if isinstance(values, list):
            self._numbers = values
        else:
            import numpy as np

            self._values = np.asarray(values, dtype=np.float64)
        self.path = path

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def values(self) -> np.ndarray:
        """The values as a float64 array (the Python floats are let go once it exists)."""
        values = self._values
        if values is None:
            with _ARRAY_MADE:  # loading and background threads may both ask first
                if self._values is None:
                    import numpy as np

                    self._values = np.array(self._numbers, dtype=np.float64)
                    self._numbers = None
                values = self._values
        return values

    def values_list(self) -> list[float]:
        """The values as Python floats, exactly as written."""
        numbers = self._numbers
        return numbers if numbers is not None else self.values.tolist()

    def highest(self, count: int) -> list[int]:
        """Indexes of the `count` highest values, highest first, ties in report order."""
        numbers = self.values_list()
        if count <= 0:
            return []
        if count < len(numbers):
            cutoff = sorted(numbers, reverse=True)[count - 1]  # in C: heapq's loop is Python
            found = list(compress(range(len(numbers)), map(cutoff.__le__, numbers)))
        else:
            found = list(range(len(numbers)))
        found.sort(key=lambda i: -numbers[i])  # stable: ties stay in report order
        return found[:count]

    def bounds(self) -> tuple[float, float]:
        """The lowest and the highest value."""
        numbers = self.values_list()
        return (min(numbers), max(numbers))

    @classmethod
    def read(cls, path: str | Path) -> EntropyReport:
        path = Path(path)
        return cls.parse(read_bytes(path, "an entropy report"), path)

    @classmethod
    def parse(cls, data: bytes, path: str | Path | None = None) -> EntropyReport:
        keys: list[str] = []
        numbers: list[float] = []
        for found_keys, found_numbers in _parsed(data, path):
            keys += found_keys
            numbers += found_numbers
        return cls(keys, numbers, Path(path) if path else None)

    def by_layer(self) -> dict[str, dict[str, float]]:
        """Layer id -> {port: value}. Values stay Python floats, exactly as written."""
        layers: dict[str, dict[str, float]] = {}
        _fold(layers, self.keys, self.values_list())
        return layers

    def summary(self) -> Summary:
        import numpy as np

        v = self.values
        return Summary(len(v), float(v.min()), float(v.max()), float(v.mean()), float(np.median(v)))

    def histogram(self, bins: int = 20, low: float = 0.0,
                  high: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Counts per bin over [low, high] (entropy lives in 0..1); values outside are clipped."""
        import numpy as np

        clipped = np.clip(self.values, low, high)
        return np.histogram(clipped, bins=bins, range=(low, high))

    def count_at_or_above(self, threshold: float) -> int:
        import numpy as np

        return int(np.count_nonzero(self.values >= threshold))


class LayerEntropy(NamedTuple):
    """A report read only as layer id -> {port: value} (what `quanted layers` shows): its
    keys, a str per tensor, are not kept."""

    path: Path
    layers: dict[str, dict[str, float]]

    def by_layer(self) -> dict[str, dict[str, float]]:
        return self.layers

    @classmethod
    def read(cls, path: str | Path, only: Container[str] | None = None) -> LayerEntropy:
        """EntropyReport.read(path).by_layer(), the same checks, a piece at a time; `only`:
        just these layers are kept (`quanted report` shows the customized ones)."""
        path = Path(path)
        layers: dict[str, dict[str, float]] = {}
        for keys, numbers in _parsed(read_bytes(path, "an entropy report"), path):
            _fold(layers, keys, numbers, only)
        return cls(path, layers)


def read_key_pieces(path: str | Path) -> Iterator[list[str]]:
    """The keys of a report a piece at a time, with EntropyReport.read's checks (`check`
    compares them with the file without holding them all)."""
    for keys, _ in _parsed(read_bytes(Path(path), "an entropy report"), path):
        yield keys


def _parsed(data: bytes, path: str | Path | None,
            piece: int = _PIECE) -> Iterator[tuple[list[str], list[float]]]:
    """The keys and values of a report, a piece of about `piece` bytes at a time (each piece
    decoded alone: neither the text of a 28 MB report nor a list of all its lines is held
    beside its bytes); ReadError for what is not one. A piece ends after a newline, which
    ends a line for splitlines too (and never splits a CR LF or a UTF-8 sequence)."""
    label = str(path) if path is not None else "<entropy>"
    if b"\x00" in data:
        raise ReadError("binary data, not an entropy report", label)
    spans = []
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start + piece)
        end = len(data) if cut < 0 else cut + 1
        spans.append((start, end))
        start = end
    if not data.isascii():  # the whole file is checked first: this error comes before a line's
        for start, end in spans:
            try:
                data[start:end].decode("utf-8")
            except UnicodeDecodeError as exc:
                where = data.count(b"\n", 0, start + exc.start) + 1
                raise ReadError("not UTF-8 text, not an entropy report", label, where) from None
    number = 0
    empty = True
    for start, end in spans:
        lines = data[start:end].decode("utf-8").splitlines()
        found = _well_formed(lines)
        if found is None:
            keys: list[str] = []
            numbers: list[float] = []
            for text_line in lines:
                number += 1
                _parse_line(text_line, number, label, keys, numbers)
            found = (keys, numbers)
        else:
            number += len(lines)
        if found[0]:
            empty = False
            yield found
    if empty:
        raise ReadError("empty entropy report", label)


def _fold(layers: dict[str, dict[str, float]], keys: list[str], values: list[float],
          only: Container[str] | None = None) -> None:
    """Keys and their values onto layer id -> {port: value} (the last value of a key wins);
    `only`: the layers to keep, None for all."""
    for key, value in zip(keys, values):
        # split_tensor_key inlined (a million keys at 150 MB); a key without ':' is all layer
        layer, sep, port = (key[1:] if key[:1] == "@" else key).rpartition(":")
        if not sep:
            layer, port = split_tensor_key(key)
        if only is not None and layer not in only:
            continue
        port = sys.intern(port)  # a few names: one str each, not one per layer's dict
        ports = layers.get(layer)
        if ports is None:
            layers[layer] = {port: value}
        else:
            ports[port] = value


def _shorten(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def names_beside(quantize_path: Path) -> list[str]:
    """The report names that belong to `quantize_path`, most specific first: NAME_entropy.txt
    and NAME.entropy.txt for the file's stem and for its model name (`tinynet` of
    `tinynet_uint8.quantize`), then the engine's own entropy.txt."""
    stem = quantize_path.name
    stem = stem.removesuffix(".quantize")
    stems = [stem]
    head, sep, _ = stem.rpartition("_")
    if sep and head:
        stems.append(head)
    names = [f"{s}{joint}entropy.txt" for s in stems for joint in ("_", ".")]
    return [*names, ENGINE_WRITES]


@dataclass(frozen=True)
class EntropyReportChoice:
    """Which entropy report a .quantize file uses, and what to tell the user about it."""

    path: Path | None
    looked_for: list[str] = field(default_factory=list)
    others: list[Path] = field(default_factory=list)  # matching names not chosen
    unmatched: list[Path] = field(default_factory=list)  # *entropy*.txt that match no name

    @property
    def note(self) -> str | None:
        """One line for the user: why no report was found, or that another one is newer."""
        if self.path is None:
            text = f"no entropy report found (looked for {', '.join(self.looked_for)})"
            if self.unmatched:
                text += f"; {self.unmatched[0].name} is there but not named for this file"
            return text
        newer = [p for p in self.others if _mtime(p) > _mtime(self.path)]
        if newer:
            return (f"using {self.path.name}; {newer[0].name} beside it is newer "
                    "(open it to use it instead)")
        return None


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def resolve(quantize_path: Path, given: Path | None = None) -> EntropyReportChoice:
    """The report to use: `given` (-e, or opened in the editor) when there is one, else the
    first of names_beside() that exists."""
    if given is not None:
        return EntropyReportChoice(Path(given))
    folder = quantize_path.parent
    names = names_beside(quantize_path)
    found = [folder / name for name in names if (folder / name).is_file()]
    if found:
        return EntropyReportChoice(found[0], names, found[1:])
    try:
        unmatched = sorted(p for p in folder.glob("*entropy*.txt") if p.is_file())
    except OSError:
        unmatched = []
    return EntropyReportChoice(None, names, [], unmatched)


def read_for(quantize_path: Path,
             given: Path | None = None) -> tuple[EntropyReport | None, EntropyReportChoice]:
    """The resolved report, read (None when there is none), and the resolution."""
    found = resolve(quantize_path, given)
    report = EntropyReport.read(found.path) if found.path is not None else None
    return report, found


EARLIER_KIND = "entropy-before-hybrid"  # what hybrid runs save in .quanted/history/
EARLIER_LIMIT = 5


def earlier_reports(quantize_path: Path,
                    only: Container[str] | None = None) -> list[tuple[str, LayerEntropy]]:
    """The reports saved before each hybrid run of the file, newest first, each with a label
    for the user: `entropy.txt before the hybrid run of 2026-11-27 04:41`. Unreadable copies
    are skipped: they only fill in values the current report lacks. Each is read by layer,
    keeping only the layers `only` names (None: all)."""
    from quanted.core.state.history import History

    history = History(quantize_path)
    found: list[tuple[str, LayerEntropy]] = []
    for entry in reversed(history.entries(EARLIER_KIND)):
        path = history.path_of(entry)
        if path is None:
            continue
        try:
            report = LayerEntropy.read(path, only)
        except ReadError:
            continue
        source = entry.data.get("source", ENGINE_WRITES)
        found.append((f"{source} before the hybrid run of {_when(entry.time)}", report))
        if len(found) == EARLIER_LIMIT:
            break
    return found


def _when(stamp: str) -> str:
    """`20261127-044137-697149` -> `2026-11-27 04:41`."""
    day, _, clock = stamp.partition("-")
    if len(day) != 8 or len(clock) < 4:
        return stamp
    return f"{day[:4]}-{day[4:6]}-{day[6:]} {clock[:2]}:{clock[2:4]}"
