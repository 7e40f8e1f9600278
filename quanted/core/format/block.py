"""The `customized_quantize_layers` block as lines, edited without touching other lines.

ruamel.yaml parses the block (it is small) so keys and values are read exactly as
YAML means them, and it quotes new keys that need it. The edits themselves are
line operations: ruamel's round-trip dump would re-attach a comment above a key
to the key before it (docs/format.md section 6), which is the very loss users complain
about. Each state is an immutable tuple of lines, so undo is a pointer swap.
"""

from __future__ import annotations

import io
import re
from collections.abc import Container, Iterable
from itertools import chain, compress, repeat
from operator import itemgetter, not_
from typing import NamedTuple

from quanted.core.errors import EditError
from quanted.core.disk.gcpause import gc_paused
from quanted.core.format.keys import DOUBLE_QUOTED as _DQ, SINGLE_QUOTED as _SQ, unquote_single
from quanted.core.format.scalars import all_simple as _all_simple
from quanted.core.format.scalars import format_scalar

ENTRY_RE = re.compile(
    rf"(?P<indent>[ ]+)(?P<key>{_SQ}|{_DQ}|[^\s'\"#][^#]*?)(?P<sep>[ ]*:(?:[ ]+|$))"
    rf"(?P<value>{_SQ}|{_DQ}|[^\s#'\"][^#]*?)?(?P<post>(?:[ ]+\#.*)?[ ]*)"
)
HEADER_RE = re.compile(r"(?P<head>[^:]+:)(?P<gap>[ ]*)(?P<value>\{[^#]*\})?"
                       r"(?P<post>(?:[ ]*\#.*)?[ ]*)")


class Line(NamedTuple):
    """One body line. `key` is None for comment and blank lines. A named tuple, not a
    dataclass: a bulk add builds 188,000 of them and a tuple is built in C."""

    text: str  # without its line terminator
    eol: str  # "\n", "\r\n" or "" on a last line without one
    key: str | None = None
    value: str | None = None
    comment: str | None = None  # the trailing comment's text, without '#'


class BlockState(NamedTuple):
    header: str  # the header line, without its terminator
    header_eol: str
    lines: tuple[Line, ...]


def _unquote(token: str) -> str:
    if token.startswith("'"):
        return unquote_single(token[1:-1])
    if token.startswith('"'):
        return str(_yaml_load(token))
    return token


def _yaml_load(text: str) -> object:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    return yaml.load(io.StringIO(text))


def is_empty_flow(value: str) -> bool:
    """`{}`, `{ }`, ...: an empty mapping written inline."""
    return value[1:-1].strip(" ") == ""


def is_empty(state: BlockState) -> bool:
    """No entries, inline or on lines of their own."""
    value = HEADER_RE.fullmatch(state.header)["value"]  # type: ignore[index]
    return (not value or is_empty_flow(value)) and all(ln.key is None for ln in state.lines)


def flow_entries(state: BlockState) -> dict[str, str]:
    """Entries written inline, `customized_quantize_layers: {a: b}`."""
    value = HEADER_RE.fullmatch(state.header)["value"]  # type: ignore[index]
    if not value or is_empty_flow(value):
        return {}
    loaded = _yaml_load("x: " + value)
    return {str(k): str(v) for k, v in loaded["x"].items()}  # type: ignore[index]


# Fields of Line, picked in C: text 0, eol 1, key 2, value 3, comment 4.
_KEY, _KEY_VALUE, _TEXT_EOL = itemgetter(2), itemgetter(2, 3), itemgetter(0, 1)
_COMMENT, _KEY_COMMENT = itemgetter(4), itemgetter(2, 4)
_TEXT, _EOL = itemgetter(0), itemgetter(1)


def entries(state: BlockState) -> dict[str, str]:
    found = flow_entries(state)
    # In C (a Python loop was 0.14 s at 188,000 entries); comment lines land on the key None.
    found.update(map(_KEY_VALUE, state.lines))
    found.pop(None, None)  # type: ignore[call-overload]
    return found


def comments(state: BlockState) -> dict[str, str]:
    """Layer id -> its trailing comment. The lines with one are picked in C (a comprehension
    over 200,000 lines was 0.1 s); a comment line's comment is None, so its key is never None."""
    lines = state.lines
    return dict(map(_KEY_COMMENT, compress(lines, map(_COMMENT, lines))))


# What an unsaved edit did to a layer of the customized block.
ADDED, CHANGED, REMOVED = "added", "changed", "removed"


def changes(now: dict[str, str], saved: dict[str, str], comments: dict[str, str],
            saved_comments: dict[str, str]) -> dict[str, str]:
    """Layer id -> ADDED, CHANGED (its qtype or comment) or REMOVED, from the entries and
    comments of two states; removed layers come last."""
    found: dict[str, str] = {}
    for layer, qtype in now.items():
        if layer not in saved:
            found[layer] = ADDED
        elif saved[layer] != qtype or comments.get(layer) != saved_comments.get(layer):
            found[layer] = CHANGED
    found.update((layer, REMOVED) for layer in saved if layer not in now)
    return found


def first_indent(state: BlockState) -> str | None:
    """The indent of the block's first entry line (None without one)."""
    return next((indent_of(line.text) for line in state.lines if line.key is not None), None)


def duplicates(state: BlockState) -> list[str]:
    seen: set[str] = set()
    dups = []
    for line in state.lines:
        if line.key is not None:
            if line.key in seen and line.key not in dups:
                dups.append(line.key)
            seen.add(line.key)
    return dups


class Editor:
    """Pure edits from one BlockState to the next."""

    def __init__(self, indent: str, newline: str, original_header: str,
                 empty_header: str | None = None) -> None:
        self.indent = indent
        self.newline = newline
        self.original_header = original_header
        # The header to write when the block becomes empty again: the file's own empty form
        # (`{}  # none yet`, a bare `customized_quantize_layers:`, `{ }`) when it had one.
        self.empty_header = empty_header

    def _header_as_block(self, state: BlockState) -> BlockState:
        match = HEADER_RE.fullmatch(state.header)
        assert match is not None
        if not match["value"]:
            return state
        if not is_empty_flow(match["value"]):
            # Inline entries become one line each, the layout every other edit expects.
            expanded = [self._entry_line(k, v, None, self.newline)
                        for k, v in flow_entries(state).items()]
            state = state._replace(lines=tuple(expanded) + state.lines)
        return state._replace(header=with_entries(state.header))

    def _entry_line(self, layer: str, qtype: str, comment: str | None, eol: str) -> Line:
        text = f"{self.indent}{format_scalar(layer)}: {format_scalar(qtype)}"
        if comment:
            text += f"  # {comment}"
        return Line(text, eol, layer, qtype, comment or None)

    def set(self, state: BlockState, layer: str, qtype: str) -> BlockState:
        return self.set_many(state, {layer: qtype})

    def set_many(self, state: BlockState, qtypes: dict[str, str]) -> BlockState:
        """Set or add every layer in one pass over the lines (a bulk add of thousands of
        layers stays linear); new layers go after the last entry, in the given order."""
        state = self._header_as_block(state)
        lines = list(state.lines)
        seen: set[str] = set()
        # The lines of layers already there, found in C.
        for i in compress(range(len(lines)), map(qtypes.__contains__, map(_KEY, lines))):
            line = lines[i]
            if line.key is not None:
                qtype = qtypes[line.key]
                match = ENTRY_RE.fullmatch(line.text)
                assert match is not None
                text = line.text[: match.start("sep")] + match["sep"].rstrip(" ") + " "
                text += format_scalar(qtype) + match["post"]
                lines[i] = line._replace(text=text, value=qtype)
                seen.add(line.key)
        new_layers = [layer for layer in qtypes if layer not in seen] if seen else list(qtypes)
        if not new_layers:
            return state._replace(lines=tuple(lines))
        last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].key is not None), -1)
        anchor_eol = lines[last].eol if last >= 0 else state.header_eol
        if not anchor_eol:
            # The anchor ended the file without a newline; it gets one, the last new line doesn't.
            if last >= 0:
                lines[last] = lines[last]._replace(eol=self.newline)
            else:
                state = state._replace(header_eol=self.newline)
        eol = anchor_eol or self.newline
        indent = self.indent
        distinct = set(qtypes.values())
        one = next(iter(distinct)) if len(distinct) == 1 else None
        # One pass over all ids decides that none needs quoting, not one call per id.
        simple = _all_simple(new_layers)
        new_qtypes: Iterable[str]
        if simple and one is not None and "\n" not in format_scalar(one):
            # One qtype (a bulk add): every line by one join and one split, in C (a
            # comprehension formatting each line was 0.2 s at 200,000 layers).
            tail = ": " + format_scalar(one)
            texts = (indent + (tail + "\n" + indent).join(new_layers) + tail).split("\n")
            new_qtypes = repeat(one)
        else:
            new_qtypes = list(map(qtypes.__getitem__, new_layers))
            values = {q: format_scalar(q) for q in set(new_qtypes)}
            keys = new_layers if simple else map(format_scalar, new_layers)
            texts = [f"{indent}{key}: {values[qtype]}" for key, qtype in zip(keys, new_qtypes)]
        new = _new_lines(texts, eol, new_layers, new_qtypes)
        if not anchor_eol:
            new[-1] = new[-1]._replace(eol="")
        lines[last + 1 : last + 1] = new
        return state._replace(lines=tuple(lines))

    def remove(self, state: BlockState, layer: str) -> BlockState:
        return self.remove_many(state, {layer})

    def remove_many(self, state: BlockState, layers: Container[str]) -> BlockState:
        """Drop every line of these layers in one pass (a bulk remove stays linear)."""
        state = self._header_as_block(state)
        lines = state.lines
        # Kept: the lines whose key (None for a comment) is not to go; chosen in C.
        kept = list(compress(lines, map(not_, map(layers.__contains__, map(_KEY, lines)))))
        if lines and not lines[-1].eol and (not kept or kept[-1] is not lines[-1]):
            # The removed last line ended the file without a newline: so does the new last one.
            if kept:
                kept[-1] = kept[-1]._replace(eol="")
            else:
                state = state._replace(header_eol="")
        state = state._replace(lines=tuple(kept))
        if not any(line.key is not None for line in kept):
            state = state._replace(header=self._empty_header(state))
        return state

    def _empty_header(self, state: BlockState) -> str:
        if self.empty_header is not None and with_entries(self.empty_header) == state.header:
            return self.empty_header
        original = HEADER_RE.fullmatch(self.original_header)
        if original is not None and (original["value"] or "").strip() == "{}":
            return self.original_header
        match = HEADER_RE.fullmatch(state.header)
        assert match is not None
        post = match["post"].strip()
        return match["head"] + " {}" + (" " + post if post else "")

    def set_comment(self, state: BlockState, layer: str, comment: str | None) -> BlockState:
        return self.set_comments(state, {layer: comment})

    def set_comments(self, state: BlockState, comments: dict[str, str | None]) -> BlockState:
        """Set (or clear, with None) the trailing comment of each layer, in one pass."""
        _check_one_line([c or "" for c in comments.values()])
        wanted = {layer: c.strip() if c else None for layer, c in comments.items()}
        state = self._header_as_block(state)
        lines = list(state.lines)
        found: set[str] = set()
        for i, line in enumerate(lines):
            if line.key is None or line.key not in wanted:
                continue
            comment = wanted[line.key]
            found.add(line.key)
            match = ENTRY_RE.fullmatch(line.text)
            assert match is not None
            kept = line.text[: match.start("post")]
            post = match["post"]
            if comment:
                gap = post[: post.index("#")] if "#" in post else "  "
                text = f"{kept}{gap}# {comment}"
            else:
                text = kept
            lines[i] = line._replace(text=text, comment=comment)
        missing = [layer for layer in wanted if layer not in found]
        if missing:
            raise EditError(f"layer {missing[0]!r} is not in customized_quantize_layers")
        return state._replace(lines=tuple(lines))

    def insert_comments(self, state: BlockState, texts: list[str],
                        before: str | None) -> BlockState:
        """Full-line comments above `before`'s line, or at the top of the block when None."""
        _check_one_line(texts)
        if not texts:
            return state
        lines = list(state.lines)
        at = 0
        if before is not None:
            at = next((i for i, ln in enumerate(lines) if ln.key == before), 0)
        indent = self.indent
        if at < len(lines) and lines[at].key is not None:
            indent = indent_of(lines[at].text)
        new = [Line(f"{indent}# {t.lstrip('#').strip()}", self.newline) for t in texts]
        if at == len(lines) and not state.header_eol and not lines:
            state = state._replace(header_eol=self.newline)
            new[-1] = new[-1]._replace(eol="")
        return state._replace(lines=tuple(lines[:at] + new + lines[at:]))


def _new_lines(texts: list[str], eol: str, layers: list[str], qtypes: Iterable[str]) -> list[Line]:
    """Entry lines built in C, the collector paused (Line() calls and its passes: 60%)."""
    with gc_paused():
        return list(map(tuple.__new__, repeat(Line), zip(texts, repeat(eol), layers, qtypes,
                                                         repeat(None))))


def with_entries(header: str) -> str:
    """The header an empty-block header becomes once the block has entries."""
    match = HEADER_RE.fullmatch(header)
    assert match is not None
    if not match["value"]:
        return header
    post = match["post"].strip()
    return match["head"] + (" " + post if post else "")


def default_empty(header: str) -> str:
    """The empty form quanted writes for a header with entries, without other knowledge."""
    post = HEADER_RE.fullmatch(header)["post"].strip()  # type: ignore[index]
    return HEADER_RE.fullmatch(header)["head"] + " {}" + (" " + post if post else "")  # type: ignore[index]


def _check_one_line(texts: list[str]) -> None:
    if any("\n" in t or "\r" in t for t in texts):
        raise EditError("a comment must be a single line")


def indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" "))]


def render(state: BlockState) -> str:
    lines = state.lines
    eols = list(map(_EOL, lines))
    if eols and eols.count(eols[0]) == len(eols):
        # One line ending throughout (a bulk add's block): one join, no pair per line.
        return state.header + state.header_eol + eols[0].join(map(_TEXT, lines)) + eols[0]
    body = chain.from_iterable(map(_TEXT_EOL, lines))  # in C: 188,000 lines at a save
    return state.header + state.header_eol + "".join(body)
