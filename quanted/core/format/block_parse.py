"""Reading the `customized_quantize_layers` block's text into a BlockState
(quanted.core.format.block edits it): one Line per body line, cross-checked with a YAML
parser unless every line is beyond doubt."""

from __future__ import annotations

import re
from collections.abc import Callable

from quanted.core.format.block import (
    ENTRY_RE,
    HEADER_RE,
    BlockState,
    Line,
    _unquote,
    _yaml_load,
    duplicates,
    is_empty_flow,
)
from quanted.core.format.yamlshape import MAX_DEPTH
from quanted.core.errors import ReadError
from quanted.core.format.scalars import NOT_STRINGS as _NOT_STRINGS

_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")
# Lines whose YAML reading is beyond doubt: a plain layer id, a plain qtype, a comment.
# A block made only of these needs no YAML parser (tests/core/test_scanner_fuzz.py holds
# this to PyYAML); anything else is cross-checked with ruamel.yaml.
_SIMPLE_ENTRY = re.compile(r"[ ]+[A-Za-z_/][A-Za-z0-9_./\-]*:[ ]+[A-Za-z_][A-Za-z0-9_\-]*"
                           r"(?:[ ]+\#.*)?[ ]*")
_SIMPLE_HEADER = re.compile(r"[a-z_]+:(?:[ ]*\{\})?(?:[ ]+\#.*)?[ ]*")


def _needs_yaml_parser(state: BlockState) -> bool:
    if not _SIMPLE_HEADER.fullmatch(state.header):
        return True
    for line in state.lines:
        if line.key is None:
            continue
        if not _SIMPLE_ENTRY.fullmatch(line.text):
            return True
        if line.key.lower() in _NOT_STRINGS or (line.value or "").lower() in _NOT_STRINGS:
            return True
    return False


def parse(text: str, path: str, line_getter: Callable[[], int]) -> BlockState:
    """Parse the block text (header line plus body) into lines; ReadError on anything odd.

    `line_getter()` gives the header's line number. It is a callable because it is only
    needed for errors, and counting lines in a 15 MB file costs more than a small edit."""
    # Lines end at \n only: str.splitlines() also breaks at \x0b, \x1c, U+0085, U+2028...,
    # which a layer id or comment may hold (the engine's loader reads them as text, or
    # check reports them).
    raw_lines = _LINES.findall(text)
    header_raw = raw_lines[0]
    header = header_raw.rstrip("\r\n")
    if HEADER_RE.fullmatch(header) is None:
        raise ReadError("cannot read the customized_quantize_layers line", path, line_getter())
    lines = []
    for offset, raw in enumerate(raw_lines[1:], start=1):
        body = raw.rstrip("\r\n")
        eol = raw[len(body) :]
        stripped = body.strip(" ")
        if not stripped or stripped.startswith("#"):
            lines.append(Line(body, eol))
            continue
        match = ENTRY_RE.fullmatch(body)
        if match is None:
            raise ReadError(
                f"cannot read this customized_quantize_layers entry: {stripped!r}",
                path,
                line_getter() + offset,
                len(body) - len(body.lstrip(" ")) + 1,
            )
        post = match["post"]
        comment = post.split("#", 1)[1].strip() if "#" in post else None
        value = _unquote(match["value"]) if match["value"] else ""
        lines.append(Line(body, eol, _unquote(match["key"]), str(value), comment))
    state = BlockState(header, header_raw[len(header) :], tuple(lines))
    if _needs_yaml_parser(state):
        _cross_check(state, text, path, line_getter())
    return state


def _cross_check(state: BlockState, text: str, path: str, first_line: int) -> None:
    """Our line reading must agree with a real YAML parse of the same text."""
    from ruamel.yaml.error import YAMLError

    try:
        loaded = _yaml_load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ReadError(f"customized_quantize_layers: {problem}", path, line) from None
    except RecursionError:  # ruamel's composer recurses once per level
        raise ReadError(f"customized_quantize_layers: nested more than {MAX_DEPTH} levels "
                        "deep (the engine's YAML loader fails on it)", path, first_line) from None
    mapping = loaded.get("customized_quantize_layers") if isinstance(loaded, dict) else None
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise ReadError("customized_quantize_layers is not a mapping", path, first_line)
    header_value = HEADER_RE.fullmatch(state.header)["value"]  # type: ignore[index]
    if header_value and not is_empty_flow(header_value):
        return  # flow style with entries: ruamel's reading is the only one
    if any(ch in text for ch in "\x85\u2028\u2029"):
        return  # YAML readers split lines there; check warns about each such line
    dups = set(duplicates(state))
    ours = {line.key: line.value for line in state.lines
            if line.key is not None and line.key not in dups}
    theirs = {str(k): "" if v is None else str(v) for k, v in mapping.items() if str(k) not in dups}
    if ours != theirs:
        raise ReadError(
            "customized_quantize_layers has a layout quanted cannot edit safely "
            "(one entry per line, `LAYER: QTYPE`)",
            path,
            first_line,
        )
