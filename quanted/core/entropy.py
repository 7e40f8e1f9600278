"""entropy.txt: `TENSOR_KEY, FLOAT` lines (pegasus --compute-entropy), higher = worse
precision."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quanted.core.errors import ReadError
from quanted.core.files import read_bytes
from quanted.core.keys import split_tensor_key

ENTROPY_FILE = "entropy.txt"


@dataclass(frozen=True)
class Summary:
    count: int
    minimum: float
    maximum: float
    mean: float
    median: float


class EntropyReport:
    """Parsed entropy.txt: parallel arrays of tensor keys and values, in file order."""

    def __init__(self, keys: list[str], values: np.ndarray, path: Path | None = None) -> None:
        self.keys = keys
        self.values = values
        self.path = path

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def read(cls, path: str | Path) -> EntropyReport:
        path = Path(path)
        return cls.parse(read_bytes(path, "an entropy report"), path)

    @classmethod
    def parse(cls, data: bytes, path: str | Path | None = None) -> EntropyReport:
        label = str(path) if path is not None else "<entropy>"
        if b"\x00" in data:
            raise ReadError("binary data, not an entropy report", label)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ReadError("not UTF-8 text, not an entropy report", label, line) from None
        keys: list[str] = []
        numbers: list[float] = []
        for number, text_line in enumerate(text.splitlines(), start=1):
            stripped = text_line.strip()
            if not stripped:
                continue
            key, sep, value = stripped.rpartition(",")
            key = key.strip()
            if not sep or not key:
                raise ReadError(f"expected 'TENSOR_KEY, VALUE', got {_shorten(stripped)!r}",
                                label, number)
            try:
                parsed = float(value)
            except ValueError:
                raise ReadError(f"not a number: {_shorten(value.strip())!r}",
                                label, number) from None
            if math.isnan(parsed):
                raise ReadError("entropy is NaN", label, number)
            keys.append(key)
            numbers.append(parsed)
        if not keys:
            raise ReadError("empty entropy report", label)
        return cls(keys, np.array(numbers, dtype=np.float64), Path(path) if path else None)

    def by_layer(self) -> dict[str, dict[str, float]]:
        """Layer id -> {port: value}. Values stay Python floats, exactly as written."""
        layers: dict[str, dict[str, float]] = {}
        for key, value in zip(self.keys, self.values.tolist()):
            # split_tensor_key inlined (a million keys at 150 MB); a key without ':' is all layer
            layer, sep, port = (key[1:] if key[:1] == "@" else key).rpartition(":")
            if not sep:
                layer, port = split_tensor_key(key)
            ports = layers.get(layer)
            if ports is None:
                layers[layer] = {port: value}
            else:
                ports[port] = value
        return layers

    def summary(self) -> Summary:
        v = self.values
        return Summary(len(v), float(v.min()), float(v.max()), float(v.mean()), float(np.median(v)))

    def histogram(self, bins: int = 20, low: float = 0.0,
                  high: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Counts per bin over [low, high] (entropy lives in 0..1); values outside are clipped."""
        clipped = np.clip(self.values, low, high)
        return np.histogram(clipped, bins=bins, range=(low, high))

    def count_at_or_above(self, threshold: float) -> int:
        return int(np.count_nonzero(self.values >= threshold))


def _shorten(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def find_beside(quantize_path: Path) -> Path | None:
    """entropy.txt in the same folder as the .quantize file, if there is one."""
    candidate = quantize_path.parent / ENTROPY_FILE
    return candidate if candidate.is_file() else None
