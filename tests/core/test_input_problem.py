"""input_problem's character test (a loop, for import time) finds the same first character as
the regex of ruamel's Reader set it replaced, over every code point class boundary."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.format.loader_rules import first_unprintable, input_problem

# ruamel's Reader: \t \n \r, 0x20-0x7e, 0x85, 0xa0-0xd7ff, 0xe000-0xfffd, the astral planes.
RUAMEL = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _regex(text: str) -> str | None:
    found = RUAMEL.search(text)
    return found.group() if found is not None else None


def test_every_bmp_code_point_and_some_astral_ones():
    for code in [*range(0x10000), 0x10000, 0x1F600, 0x10FFFF]:
        ch = chr(code)
        assert first_unprintable(f"a{ch}b") == _regex(f"a{ch}b"), hex(code)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=12))
def test_any_text(text):
    assert first_unprintable(text) == _regex(text)


def test_messages():
    assert input_problem("a\tb") is not None and "U+0009" in input_problem("a\tb")
    assert "U+0007" in input_problem("a\x07\tb")  # the control character before the tab
    assert "U+FFFE" in input_problem("x\ufffe")
    assert input_problem("layer/ok_1") is None and input_problem("é漢\U0001F600") is None
