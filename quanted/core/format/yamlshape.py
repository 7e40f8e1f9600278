"""The subset of YAML a .quantize file is written in, checked line by line.

Block mappings and sequences of one-line scalars, comments, `%` directives and one
document. This is what the scanner's careful path uses wherever its fast regex stops;
tests/core/test_scanner_fuzz.py holds it to PyYAML: anything accepted here must be read
the same way by a real parser.
"""

from __future__ import annotations

import re

from quanted.core.format.keys import DOUBLE_QUOTED as _DQ
from quanted.core.format.keys import SINGLE_QUOTED as _SQ

# Flow collections only as .quantize files use them: `{}`, `[]`, `[0.1, 0.2]`, `{a: b}`.
_TOK = r"(?:[.+\w/~]|-[.+\w/~])[-.+\w/~]*"
_FLOW = (
    rf"\[[ ]*(?:{_TOK}(?:[ ]*,[ ]*{_TOK})*)?[ ]*\]"
    rf"|\{{[ ]*(?:{_TOK}:[ ]+{_TOK}(?:[ ]*,[ ]*{_TOK}:[ ]+{_TOK})*)?[ ]*\}}"
)
# YAML's white space is space and tab only: \s would also take U+0085, U+00A0, U+2028, which
# are text to the engine's loader (tests/adversarial/test_engine_loader.py).
_PLAIN = (
    r"(?:[^ \t\r\n'\"#,\[\]{}&*!|>%@`?:\-]|[\-?:](?=[^ \t\r\n,\[\]{}]))"
    r"(?:[^ \t\r\n:#]|:(?=[^ \t\r\n,\[\]{}])|[ ]+(?=[^ \t\r\n#])|(?<=[^ \t\r\n])\#)*"
)
_VALUE = f"(?:{_SQ}|{_DQ}|{_FLOW}|{_PLAIN})"
_KEY = f"(?:{_SQ}|{_DQ}|{_PLAIN})"
_END = r"(?:[ ]+\#[^\r\n]*)?[ ]*\r?$"
LINE_RE = re.compile(
    r"(?P<indent>[ ]*)(?:"
    r"(?P<blank>(?:\#[^\r\n]*)?\r?$)"
    r"|(?P<marker>%[^\r\n]*|(?:---|\.\.\.)(?:[ ][^\r\n]*)?)\r?$"
    rf"|(?P<key>{_KEY})[ ]*:(?:[ ]+(?P<value>{_VALUE}))?{_END}"
    rf"|(?P<item>-)(?:[ ]+(?P<ivalue>{_VALUE}))?{_END}"
    r")"
)

MAP, SEQ = "map", "seq"
# A .quantize file nests four levels; the engine's YAML loader (ruamel.yaml 0.17.40 on
# Python 3.10, recursion limit 1000) fails past 245. Deeper is no .quantize file.
MAX_DEPTH = 100


class ShapeError(Exception):
    """A line that breaks the block structure; the scanner adds the location."""


class Structure:
    """Block-structure state: a stack of (indent, map|seq) contexts.

    `open` means the previous line was a key or item with no value, so the next line may
    start a nested block (deeper) or, after a key, a compact sequence at the same indent."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = [(0, MAP)]
        self.open: int | None = None  # indent of the value-less line before, if any
        self.open_was_key = False

    def reset_in_table(self, key_indent: int) -> None:
        """Just before a tensor key line: inside quantize_parameters' mapping."""
        self.stack = [(0, MAP), (key_indent, MAP)]
        self.open = None

    def reset_top_level(self) -> None:
        """Just before a column-0 line, the lines before it not read (the fast index)."""
        self.stack = [(0, MAP)]
        self.open = None

    def accepts_key_at(self, indent: int) -> bool:
        if self.open is not None and indent > self.open:
            return True
        return any(ctx == (indent, MAP) for ctx in self.stack)

    def feed(self, indent: int, is_item: bool, has_value: bool) -> None:
        if self.open is not None:
            if indent > self.open:
                if len(self.stack) > MAX_DEPTH:
                    raise ShapeError(f"nested more than {MAX_DEPTH} levels deep")
                self.stack.append((indent, SEQ if is_item else MAP))
            elif indent == self.open and is_item and self.open_was_key:
                self.stack.append((indent, SEQ))  # compact sequence under `key:`
        elif indent > self.stack[-1][0]:
            raise ShapeError("unexpected indentation (a value continued on the next line?)")
        self.open = None
        while indent < self.stack[-1][0]:
            self.stack.pop()
        top_indent, kind = self.stack[-1]
        if top_indent != indent:
            raise ShapeError("bad indentation")
        if kind == SEQ and not is_item:
            if len(self.stack) >= 2 and self.stack[-2] == (indent, MAP):
                self.stack.pop()  # a key after a compact sequence ends it
                kind = MAP
            else:
                raise ShapeError("a key where a list item was expected")
        if kind == MAP and is_item:
            raise ShapeError("a list item where a key was expected")
        if not has_value:
            self.open = indent
            self.open_was_key = not is_item


class Stream:
    """One YAML document: `%` directives, then `---`, then content, then an optional `...`."""

    def __init__(self) -> None:
        self.directives: set[str] = set()
        self.started = False  # `---` seen
        self.has_content = False
        self.ended = False  # `...` seen

    def marker(self, text: str) -> None:
        if self.ended:
            raise ShapeError("more than one YAML document")
        if text.startswith("%"):
            words = text.split()
            if self.started or self.has_content:
                raise ShapeError("a directive after the document started")
            if words[0] == "%YAML":
                if "%YAML" in self.directives:
                    raise ShapeError("a second %YAML directive")
                if words[1:2] not in (["1.1"], ["1.2"]):
                    raise ShapeError("unsupported YAML version")
            else:
                raise ShapeError(f"unsupported directive {words[0]}")
            self.directives.add(words[0])
        elif text.startswith("---"):
            if self.started or self.has_content or text.strip() != "---":
                raise ShapeError("more than one YAML document")
            self.started = True
        else:
            if text.strip() != "...":
                raise ShapeError("text after a document end marker")
            self.ended = True

    def content(self) -> None:
        if self.ended:
            raise ShapeError("content after the document end marker '...'")
        if self.directives and not self.started:
            raise ShapeError("directives must be followed by '---'")
        self.has_content = True
