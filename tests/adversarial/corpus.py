"""A generated corpus of .quantize files for the engine-loader agreement test: the sample
file with one hostile change each (control and line-break characters in comments, keys and
values; duplicated fields and keys; keys around the 1,024-character limit; integers around
Python 3.10's 4,300-digit limit; deep nesting)."""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import SAMPLE

CHARS = ["\x01", "\x07", "\x0b", "\x0c", "\x0e", "\x1b", "\x1c", "\x1f", "\x7f", "\x80", "\x9f",
         "\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\xa0", "\xe9", "\u4e2d",
         "\U0001f600", "\u200b", "\ud7ff", "\ue000"]
TAILS = ["", "x", " # y", "#y", "k: v", "  ", "z: 1 # q", " - a"]
LAYER = "Flatten_output_0_3"


def _base() -> list[str]:
    return (SAMPLE / "tinynet_uint8.quantize").read_text().split("\n")


def _block_at(lines: list[str]) -> int:
    return next(i for i, ln in enumerate(lines) if ln.startswith("customized_quantize_layers:"))


def _tensor_lines(lines: list[str]) -> list[int]:
    return [i for i, ln in enumerate(lines) if ln.startswith("  '@")]


def _mutations(rng: random.Random) -> list[tuple[str, list[str]]]:
    cases: list[tuple[str, list[str]]] = []
    for ch in CHARS:
        for tail in TAILS:
            lines = _base()
            b = _block_at(lines)
            lines[b + 1] += f"  # note{ch}{tail}"
            cases.append((f"trailing comment {ch!r}{tail!r}", lines))
            lines = _base()
            lines.insert(b + 1, f"  # full line{ch}{tail}")
            cases.append((f"block comment {ch!r}{tail!r}", lines))
            lines = _base()
            t = rng.choice(_tensor_lines(lines))
            lines.insert(t, f"  # between tensors{ch}{tail}")
            cases.append((f"tensor comment {ch!r}{tail!r}", lines))
        lines = _base()
        lines.insert(0, f"# top{ch}")
        cases.append((f"top comment {ch!r}", lines))
        lines = _base()
        b = _block_at(lines)
        lines[b + 1] = f"  'odd{ch}layer': dynamic_fixed_point-i16"
        cases.append((f"quoted layer id {ch!r}", lines))
        lines = _base()
        lines[b + 1] = f"  odd{ch}layer: dynamic_fixed_point-i16"
        cases.append((f"plain layer id {ch!r}", lines))
        lines = _base()
        t = rng.choice(_tensor_lines(lines))
        lines[t] = lines[t][:-2] + f"{ch}x':"
        cases.append((f"tensor key {ch!r}", lines))
        lines = _base()
        lines[b + 1] = f"  {LAYER}: 'dynamic_fixed_point-i16{ch}'"
        cases.append((f"quoted qtype {ch!r}", lines))
    fields = ["qtype", "quantizer", "rounding", "max_value", "min_value", "scale", "zero_point"]
    for _ in range(40):
        lines = _base()
        t = rng.choice(_tensor_lines(lines))
        field_lines = [i for i in range(t + 1, t + 12) if lines[i].startswith("    ")
                       and lines[i].strip().split(":")[0] in fields]
        src = rng.choice(field_lines)
        at = rng.choice([i for i in range(t + 1, field_lines[-1] + 2)])
        lines.insert(at, lines[src].replace(": ", ":  ", rng.random() < 0.3))
        cases.append((f"duplicate field line {src}->{at}", lines))
    for _ in range(10):
        lines = _base()
        t = rng.choice(_tensor_lines(lines))
        lines.insert(t + 1, "    qtype_extra: u8")
        cases.append(("a distinct extra field", lines))
    for length in (1000, 1020, 1021, 1022, 1023, 1024, 1025, 1026, 1100, 2000):
        for quoted in (True, False):
            lines = _base()
            b = _block_at(lines)
            name = ("L" * length)[: length - (2 if quoted else 0)]
            key = f"'{name}'" if quoted else name
            lines[b + 1] = f"  {key}: dynamic_fixed_point-i16"
            cases.append((f"layer key {length} quoted={quoted}", lines))
            lines = _base()
            lines[b + 1] = f"  {key} : dynamic_fixed_point-i16"
            cases.append((f"layer key {length} quoted={quoted} space before colon", lines))
        lines = _base()
        t = rng.choice(_tensor_lines(lines))
        lines[t] = "  '@" + "T" * (length - 8) + ":out0':"
        cases.append((f"tensor key of {length}", lines))
    lines = _base()
    b = _block_at(lines)
    lines.insert(b + 1, lines[b + 1])
    cases.append(("duplicate layer", lines))
    lines = _base()
    t = _tensor_lines(lines)[3]
    lines[t + 1 : t + 1] = [lines[t]] + [ln for ln in lines[t + 1 : t + 10]
                                         if ln.startswith("    ")]
    cases.append(("duplicate tensor", lines))
    for digits in (4299, 4300, 4301, 20_000):  # Python 3.10's limit for decimal ints
        for value in ("7" * digits, "-" + "7" * digits, "0" * digits + "1",
                      "7_" + "7" * (digits - 1), "0x" + "f" * digits, "7" * digits + ".5"):
            lines = _base()
            t = rng.choice(_tensor_lines(lines))
            lines[t + 1 : t + 1] = [f"    zero_point: {value}"] if rng.random() < 0.5 else \
                [f"    extra: {value}"]
            if "zero_point" in lines[t + 1]:
                del lines[next(i for i in range(t + 2, t + 12)
                               if lines[i].startswith("    zero_point:"))]
            cases.append((f"a value {value[:6]}... of {len(value)} characters", lines))
    for depth in (3, 300):  # the loader recurses once per level
        lines = _base()
        t = rng.choice(_tensor_lines(lines))
        lines[t + 1 : t + 1] = ["    nested:", *[" " * (6 + i) + f"k{i}:" for i in range(depth)],
                                " " * (6 + depth) + "v: 1"]
        cases.append((f"nested {depth} deep", lines))
    for _ in range(20):
        lines = _base()
        b = _block_at(lines)
        noise = "".join(rng.choice(["a", "é", "中", " ", "#", ":"]) for _ in range(12))
        lines[b + 1] += f"  # {noise}"
        cases.append(("benign comment", lines))
    return cases


def write_corpus(folder: Path, seed: int = 11) -> dict[Path, str]:
    """Write every case (encoded as UTF-8) into `folder`; path -> description."""
    rng = random.Random(seed)
    written = {}
    for i, (what, lines) in enumerate(_mutations(rng)):
        path = folder / f"case{i:04d}_uint8.quantize"
        path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
        written[path] = what
    return written
