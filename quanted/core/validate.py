"""What `quanted check` reports: problems pegasus would only mention in a log line, or not at
all."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quanted.core import block, qtypes, scanner
from quanted.core.document import QuantizeDocument
from quanted.core.keys import looks_like_tensor_key, split_tensor_key
from quanted.core.scanner import QUANTIZE_PARAMETERS

if TYPE_CHECKING:
    from quanted.core.entropy import EntropyReport

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: str
    message: str
    line: int | None = None
    layer: str | None = None
    # "yaml": the engine's YAML loader (ruamel.yaml, as acuitylite runs it) rejects the file.
    code: str | None = None

    def format(self, path: str) -> str:
        where = f"{path}:{self.line}" if self.line is not None else path
        return f"{where}: {self.severity}: {self.message}"


def layer_hint(doc: QuantizeDocument, name: str) -> str | None:
    """Why `name` is not a layer id, when a near miss explains it."""
    if looks_like_tensor_key(name):
        layer = split_tensor_key(name)[0]
        if doc.has_layer(layer):
            return f"that is a tensor key; the layer id is {layer!r}"
    for other in (name.lstrip("/"), "/" + name):
        if other != name and doc.has_layer(other):
            return f"did you mean {other!r}? (differs by a leading '/')"
    close = difflib.get_close_matches(name, doc.layer_ids, n=1, cutoff=0.85)
    if close:
        return f"did you mean {close[0]!r}?"
    return None


def unknown_layer_message(doc: QuantizeDocument, name: str) -> str:
    message = f"layer {name!r} is not in quantize_parameters"
    hint = layer_hint(doc, name)
    return f"{message}; {hint}" if hint else message


def qtype_problem(qtype: str) -> tuple[str, str] | None:
    """(severity, message) for a qtype value, or None when the engine applies it."""
    if not qtype:
        return ERROR, "no qtype given"
    if not qtypes.is_known(qtype):
        known = ", ".join(qtypes.KNOWN_QTYPES)
        return ERROR, f"unknown qtype {qtype!r} (known: {known})"
    if not qtypes.engine_applies(qtype):
        return WARNING, f"qtype {qtype!r}: the 6.x engine inserts a converter but cannot apply it"
    return None


def check(doc: QuantizeDocument, report: EntropyReport | None = None) -> list[Problem]:
    problems: list[Problem] = []
    state = doc.block_state
    header_line = doc.block_line
    lines_of: dict[str, int] = {}
    for offset, entry in enumerate(state.lines, start=1):
        if entry.key is not None:
            lines_of.setdefault(entry.key, header_line + offset)
    for layer in block.duplicates(state):
        problems.append(Problem(ERROR, f"layer {layer!r} is listed more than once", lines_of[layer],
                                layer, code=YAML))
    for layer, qtype in doc.customized.items():
        line = lines_of.get(layer, header_line)
        if not doc.has_layer(layer):
            problems.append(Problem(ERROR, unknown_layer_message(doc, layer), line, layer))
        found = qtype_problem(qtype)
        if found is not None:
            severity, message = found
            problems.append(Problem(severity, f"layer {layer!r}: {message}", line, layer))
    problems.extend(_tensor_key_problems(doc))
    problems.extend(engine_loader_problems(doc))
    if report is not None:
        problems.extend(_report_problems(doc, report))
    return problems


def _tensor_key_problems(doc: QuantizeDocument) -> list[Problem]:
    keys = doc.tensor_keys
    problems = []
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                problems.append(Problem(
                    ERROR, f"tensor {key!r} appears more than once in quantize_parameters",
                    code=YAML))
            seen.add(key)
    odd = [k for k in keys if not looks_like_tensor_key(k)]
    if odd:
        problems.append(
            Problem(WARNING, f"{len(odd)} tensor key(s) not of the form '@LAYER:PORT', "
                             f"first {odd[0]!r}")
        )
    return problems


def _report_problems(doc: QuantizeDocument, report: EntropyReport) -> list[Problem]:
    known = set(doc.tensor_keys)
    missing = [k for k in report.keys if k not in known]
    if not missing:
        return []
    where = str(report.path) if report.path else "entropy.txt"
    return [
        Problem(
            WARNING,
            f"{where} lists {len(missing)} tensor(s) not in this file (first {missing[0]!r});"
            " is it from another model or an older run?",
        )
    ]


# -- what the engine's YAML loader refuses ---------------------------------------------------
# acuitylite reads a .quantize with ruamel.yaml 0.17.40 (`YAML(typ="rt")`, version 1.2, no
# duplicate keys) over `open(path).read()`. tests/adversarial/test_engine_loader.py runs that
# loader on a generated corpus and holds these rules to it.

YAML = "yaml"
MAX_KEY = 1024  # a simple key's ':' must come within 1024 characters of its start
# ruamel's Reader refuses all but \t \n \r, 0x20-0x7e, 0x85, 0xa0-0xd7ff, 0xe000-0xfffd and
# the astral planes. The same set, as UTF-8 bytes (tabs quanted's reader refuses itself).
_UNPRINTABLE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x84\x86-\x9f]"
                          rb"|\xef\xbf[\xbe\xbf]")
_UNPRINTABLE_TEXT = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                               "\U00010000-\U0010ffff]")
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
