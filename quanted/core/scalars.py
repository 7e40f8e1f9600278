"""YAML scalars as the customized block writes them: plain when a YAML reader gives back the
same string, else single-quoted."""

from __future__ import annotations

import re
from operator import itemgetter

from quanted.core.keys import quote_single

NOT_STRINGS = {"yes", "no", "on", "off", "true", "false", "y", "n", "null"}
_SIMPLE_SCALAR = re.compile(r"[A-Za-z_/][A-Za-z0-9_./\-]*")


def is_plain_safe(text: str) -> bool:
    """True when `text` written unquoted reads back as the same string."""
    if _SIMPLE_SCALAR.fullmatch(text) and text.lower() not in NOT_STRINGS:
        return True
    if not text or text != text.strip() or "\n" in text:
        return False
    if not re.fullmatch(r"[A-Za-z0-9_./@$+\-][^\s'\"#,\[\]{}]*", text):
        return False
    if text.endswith(":") or ": " in text or text.startswith(("-", "@", "?", ":")):
        return False
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    tag = VersionedResolver().resolve(ScalarNode, text, (True, False))
    return str(tag) == "tag:yaml.org,2002:str"


# `_SIMPLE_SCALAR` as byte sets: its first character, then any character.
_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_/")
_ANY = bytes(sorted(set(b"0123456789.-" + "".join(_FIRST).encode())))


def all_simple(texts: list[str]) -> bool:
    """True when every text is a `_SIMPLE_SCALAR` that YAML reads as a string (plain-safe).

    Checked in C over all texts at once (a regex over 188,000 joined ids took 70 ms): no byte
    outside the set (UTF-8 bytes of other characters never are in it), one newline between
    each two texts and none in them, every first character allowed (an empty text has none)."""
    if not texts:
        return False
    joined = "\n".join(texts).encode("utf-8", "surrogatepass")
    if joined.translate(None, _ANY + b"\n") or joined.count(b"\n") != len(texts) - 1:
        return False
    if not _FIRST.issuperset(map(itemgetter(slice(0, 1)), texts)):
        return False
    return NOT_STRINGS.isdisjoint(map(str.lower, texts))


def format_scalar(text: str) -> str:
    """A YAML scalar token for `text`: plain when safe, else single-quoted."""
    if is_plain_safe(text):
        return text
    return "'" + quote_single(text) + "'"
