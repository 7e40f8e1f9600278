"""What the engine's YAML loader (ruamel.yaml 0.17.40 on Python 3.10, as acuitylite reads a
.quantize) refuses in one line, shared by `check` (core/format/loader_rules.py, over the whole file)
and the full scan (core/format/walker.py, over the lines it reads one by one: the only ones that
can hold any of this, since its fast regex takes none of it)."""

from __future__ import annotations

import re

from quanted.core.errors import EditError

MAX_KEY = 1024  # a simple key's ':' must come within 1024 characters of its start
# Python 3.10.7+ refuses to turn more decimal digits than this into an int (ValueError in
# the loader's int constructor); hex, octal and floats have no such limit.
MAX_INT_DIGITS = 4300
BREAK_CHARS = "\x85\u2028\u2029"  # line breaks to ruamel's scanner in comments
_LONG_INT = re.compile(r"(?:^|(?<=[ \[,{]))[-+]?[0-9][0-9_]{%d,}(?=$|[ ,\]}\r])"
                       % MAX_INT_DIGITS)

UNPRINTABLE, BREAK, LONG_KEY, LONG_INT = "unprintable", "break", "long key", "long int"


def describe(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def first_unprintable(text: str) -> str | None:
    """The first character of `text` outside ruamel's set (tabs, allowed there, aside). A loop,
    not a regex: that character class took 5 ms to compile, on every `add`."""
    if text.isascii() and text.isprintable():
        return None
    for ch in text:
        code = ord(ch)
        if (code < 0x20 and ch not in "\t\n\r") or (0x7F <= code <= 0x9F and code != 0x85) or (
                0xD800 <= code <= 0xDFFF) or code in (0xFFFE, 0xFFFF):
            return ch
    return None


def comment_start(text: str) -> int:
    """Where a `#` comment starts in a line (outside quotes), or -1."""
    quote = ""
    i = 0
    token_start = True
    while i < len(text):
        ch = text[i]
        if quote:
            if quote == "'" and ch == "'" and text[i + 1 : i + 2] == "'":
                i += 2
                continue
            if quote == '"' and ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return i
        elif ch in "'\"" and token_start:
            quote = ch
        token_start = ch in " \t[{,:-?" if not quote else False
        i += 1
    return -1


def key_end(text: str) -> tuple[int, int] | None:
    """(start of the key, position of its ':') in a `KEY: value` line, or None."""
    start = len(text) - len(text.lstrip(" "))
    if start >= len(text) or text[start] in "#-":
        return None
    if text[start] in "'\"":
        quote = text[start]
        i = start + 1
        while i < len(text):
            if text[i] == quote:
                if quote == "'" and text[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                break
            i += 2 if quote == '"' and text[i] == "\\" else 1
        colon = text.find(":", i + 1)
        return (start, colon) if colon >= 0 and not text[i + 1 : colon].strip(" ") else None
    colon = text.find(": ", start)
    if colon < 0 and text.endswith(":"):
        colon = len(text) - 1
    return (start, colon) if colon >= 0 else None


def long_int(text: str) -> int | None:
    """The number of digits of a decimal integer in `text` the loader cannot read, or None."""
    if len(text) <= MAX_INT_DIGITS or text.encode("utf-8", "surrogatepass").translate(
            DIGITS_AS_ZERO).find(LONG_RUN) < 0:
        return None  # no run of digits that long (found in C: the regex is 100x slower)
    for match in _LONG_INT.finditer(text):
        digits = sum(ch.isdigit() for ch in match.group())
        if digits > MAX_INT_DIGITS:
            return digits
    return None


# Digits and `_` as b"0", every other byte as b" ": a long run of digits is a run of b"0".
DIGITS_AS_ZERO = bytes(0x30 if chr(c) in "0123456789_" else 0x20 for c in range(256))
LONG_RUN = b"0" * (MAX_INT_DIGITS + 1)


def line_refusal(text: str) -> tuple[str, str] | None:
    """(kind, why) when the loader rejects the file for this line (one of the kinds above)."""
    printable = text.isascii() and text.rstrip("\r").isprintable()
    if printable and len(text) <= MAX_KEY:
        return None
    if not printable:
        bad = first_unprintable(text.rstrip("\r"))
        if bad is not None:
            return UNPRINTABLE, (f"{describe(bad)}, a control character: the engine's YAML "
                                 "loader rejects the file")
        # comment_start is a loop over the line: only for a line that holds a break at all
        comment = comment_start(text) if any(ch in text for ch in BREAK_CHARS) else -1
        if comment >= 0 and any(ch in text[comment:] for ch in BREAK_CHARS):
            first = min(text.index(c) for c in BREAK_CHARS if c in text)
            pieces = re.split(f"[{BREAK_CHARS}]", text[comment:])[1:]
            if first > comment and not all(not p.strip(" ") or p.lstrip(" ").startswith("#")
                                           for p in pieces):
                return BREAK, (f"{describe(text[first])} in a comment: the engine's YAML "
                               "loader ends the comment there and rejects what follows")
    found = key_end(text)
    if found is not None and found[1] - found[0] > MAX_KEY:
        return LONG_KEY, (f"a key of {found[1] - found[0]} characters: the engine's YAML loader "
                          f"allows {MAX_KEY}")
    digits = long_int(text)
    if digits is not None:
        return LONG_INT, (f"an integer of {digits} digits: the engine's YAML loader reads at "
                          f"most {MAX_INT_DIGITS}")
    return None


def refuse_unloadable(data: bytes, refusals: list[tuple[int, str, str]],
                      span: tuple[int, int], block: str | None, path: str) -> None:
    """EditError (nothing written) when the loader would refuse `data` saved with its
    customized block (at `span`) made `block` (None: as it is): `refusals` are the full
    scan's of `data`; the block's lines are looked at here."""
    found = _first_refused(data, refusals, span, block)
    if found is not None:
        raise EditError(f"{found[1]}; nothing written (quanted check lists every problem)",
                        path, found[0])


def _first_refused(data: bytes, refusals: list[tuple[int, str, str]], span: tuple[int, int],
                   block: str | None) -> tuple[int, str] | None:
    start, end = span
    if block is not None:
        refusals = [r for r in refusals if not start <= r[0] < end]
    if refusals:
        at = refusals[0][0]
        return data.count(b"\n", 0, at) + 1, refusals[0][2]
    if block is None:
        return None
    for number, line in enumerate(block.splitlines()):
        found = line_refusal(line)
        if found is not None:
            return data.count(b"\n", 0, start) + 1 + number, found[1]
    return None
