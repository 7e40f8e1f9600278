"""YAML scalars as the customized block writes them: plain when a YAML reader gives back the
same string, else single-quoted."""

from __future__ import annotations

import re

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


_SIMPLE_LINES = re.compile(r"(?:[A-Za-z_/][A-Za-z0-9_./\-]*\n)*")


def all_simple(texts: list[str]) -> bool:
    """True when every text is a `_SIMPLE_SCALAR` that YAML reads as a string (plain-safe)."""
    joined = "\n".join(texts) + "\n"
    if _SIMPLE_LINES.fullmatch(joined) is None:
        return False
    return not any(text.lower() in NOT_STRINGS for text in texts if len(text) <= 5)


def format_scalar(text: str) -> str:
    """A YAML scalar token for `text`: plain when safe, else single-quoted."""
    if is_plain_safe(text):
        return text
    return "'" + quote_single(text) + "'"
