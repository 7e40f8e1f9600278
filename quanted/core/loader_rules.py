"""What the engine's YAML loader refuses, found without a YAML parse of a 15 MB file.

acuitylite reads a .quantize with ruamel.yaml 0.17.40 (`YAML(typ="rt")`, version 1.2, no
duplicate keys) over the text of `open(path)`. tests/adversarial/test_engine_loader.py runs
that very loader on a generated corpus and holds these rules to it."""

from __future__ import annotations

import re

from quanted.core import scanner
from quanted.core.document import QuantizeDocument
from quanted.core.problems import ERROR, WARNING, Problem
from quanted.core.scanner import QUANTIZE_PARAMETERS

YAML = "yaml"
MAX_KEY = 1024  # a simple key's ':' must come within 1024 characters of its start
# ruamel's Reader refuses all but \t \n \r, 0x20-0x7e, 0x85, 0xa0-0xd7ff, 0xe000-0xfffd and
# the astral planes. The same set, as UTF-8 bytes (tabs quanted's reader refuses itself).
_UNPRINTABLE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x84\x86-\x9f]|\xef\xbf[\xbe\xbf]")
_UNPRINTABLE_TEXT = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Line breaks to ruamel's scanner in comments, not to quanted's reader nor to most editors.
_BREAKS = re.compile(rb"\xc2\x85|\xe2\x80[\xa8\xa9]")
_BREAK_CHARS = "\x85\u2028\u2029"
_LONG_LINE = re.compile(rb"^[^\n]{%d,}" % (MAX_KEY + 1), re.MULTILINE)


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def input_problem(text: str, comment: bool = False) -> str | None:
    """Why `text` (a layer id, qtype or comment typed by the user) must not be written."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        return "is not valid UTF-8"
    if "\n" in text or "\r" in text:
        return "must be a single line"
    bad = _UNPRINTABLE_TEXT.search(text)
    if bad is not None or (bad := re.search("\t", text)) is not None:
        return (f"holds {_describe(bad.group())}, a control character the engine's YAML "
                "loader rejects")
    for ch in _BREAK_CHARS:
        if ch in text:
            return f"holds {_describe(ch)}, which the engine's YAML loader reads as a line break"
    if comment:
        return None
    if len(text) > MAX_KEY - 8:
        return f"is {len(text)} characters long; the engine's YAML loader allows {MAX_KEY}"
    return None


def engine_loader_problems(doc: QuantizeDocument) -> list[Problem]:
    """Errors for what the engine's YAML loader rejects, each with its line; warnings for what
    it reads differently from quanted."""
    data = doc.data
    problems: list[Problem] = []
    lines_seen: set[int] = set()
    for match in _UNPRINTABLE.finditer(data):
        line = scanner.line_of(data, match.start())
        if line in lines_seen:
            continue
        lines_seen.add(line)
        ch = match.group().decode("utf-8")
        problems.append(Problem(ERROR, f"{_describe(ch)}, a control character: the engine's YAML "
                                "loader rejects the file", line, code=YAML))
    problems.extend(_break_problems(data))
    problems.extend(_long_key_problems(data))
    problems.extend(_duplicate_field_problems(doc))
    return problems


def _line_at(data: bytes, pos: int) -> tuple[int, str]:
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    return start, data[start : end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")


def _comment_start(text: str) -> int:
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


def _break_problems(data: bytes) -> list[Problem]:
    problems = []
    done: set[int] = set()
    for match in _BREAKS.finditer(data):
        start, text = _line_at(data, match.start())
        if start in done:
            continue
        done.add(start)
        line = scanner.line_of(data, start)
        ch = next(c for c in text if c in _BREAK_CHARS)
        comment = _comment_start(text)
        first = min(text.index(c) for c in _BREAK_CHARS if c in text)
        if comment < 0 or first < comment:
            problems.append(Problem(WARNING, f"{_describe(ch)} in this line: the engine's YAML "
                                    "loader reads it as a line break, quanted does not", line))
            continue
        # In a comment the loader ends the comment there and reads what follows as YAML.
        pieces = re.split(f"[{_BREAK_CHARS}]", text[comment:])[1:]
        if all(not p.strip(" ") or p.lstrip(" ").startswith("#") for p in pieces):
            problems.append(Problem(WARNING, f"{_describe(ch)} in a comment: the engine's YAML "
                                    "loader reads it as a line break", line))
        else:
            problems.append(Problem(ERROR, f"{_describe(ch)} in a comment: the engine's YAML "
                                    "loader ends the comment there and rejects what follows",
                                    line, code=YAML))
    return problems


def _key_end(text: str) -> tuple[int, int] | None:
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


def _long_key_problems(data: bytes) -> list[Problem]:
    problems = []
    for match in _LONG_LINE.finditer(data):
        text = match.group().decode("utf-8").rstrip("\r")
        found = _key_end(text)
        if found is not None and found[1] - found[0] > MAX_KEY:
            problems.append(Problem(
                ERROR, f"a key of {found[1] - found[0]} characters: the engine's YAML loader "
                f"allows {MAX_KEY}", scanner.line_of(data, match.start()), code=YAML))
    return problems


def _duplicate_field_problems(doc: QuantizeDocument) -> list[Problem]:
    """A field written twice in one tensor entry (two `qtype:` lines): DuplicateKeyError."""
    data = doc.data
    params = doc.scan.entries[QUANTIZE_PARAMETERS]
    ki = doc.scan.key_indent
    pattern = re.compile(
        rb"^( {%d,})([^ \n'\"#\-][^:\n]*?|'[^'\n]*'):(?=[ \r\n])[^\n]*\n"
        rb"(?:\1[^\n]*\n)*?\1\2:(?=[ \r\n])" % (ki + 1),
        re.MULTILINE,
    )
    problems = []
    pos = params.body_start
    while (match := pattern.search(data, pos, params.end)) is not None:
        second = match.end() - len(match.group(2)) - 1
        field = match.group(2).decode("utf-8")
        key_at = data.rfind(b"\n" + b" " * ki + b"'", 0, match.start())
        key = _line_at(data, key_at + 1)[1].strip().rstrip(":") if key_at >= 0 else "?"
        problems.append(Problem(
            ERROR, f"tensor {key} has '{field}:' twice: the engine's YAML loader rejects "
            "the file (duplicate key)", scanner.line_of(data, second), code=YAML))
        pos = _line_end_at(data, second)
    return problems


def _line_end_at(data: bytes, pos: int) -> int:
    end = data.find(b"\n", pos)
    return len(data) if end < 0 else end + 1
