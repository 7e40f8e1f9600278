"""Tensor keys and layer ids."""

from __future__ import annotations

# A quoted YAML scalar on one line, the one definition every reader uses (the scanner's
# tensor-key regex, the customized block, the line checker). Single quotes double inside.
SINGLE_QUOTED = r"'[^'\r\n]*(?:''[^'\r\n]*)*'"
DOUBLE_QUOTED = r'"(?:[^"\\\r\n]|\\.)*"'


def split_tensor_key(key: str) -> tuple[str, str]:
    """`'@c2_6:out0'` -> ('c2_6', 'out0'). Layer ids may hold ':', so split at the LAST one."""
    body = key.removeprefix("@")
    layer, sep, port = body.rpartition(":")
    return (layer, port) if sep else (body, "")


def layer_of(key: str) -> str:
    """split_tensor_key(key)[0] without the pair: the layer every reader files a key under."""
    return (key[1:] if key[:1] == "@" else key).rpartition(":")[0] or split_tensor_key(key)[0]


def looks_like_tensor_key(text: str) -> bool:
    return text.startswith("@") and ":" in text


def quote_single(text: str) -> str:
    """The inside of a single-quoted YAML scalar: `'` doubles (tensor keys are written so)."""
    return text.replace("'", "''")


def unquote_single(text: str) -> str:
    """The inverse of quote_single."""
    return text.replace("''", "'")


def unquote_key(token: str) -> str:
    """A quoted tensor key token (`'@a:out0'` or `"@a:out0"`) -> the key. The scanner refuses
    double-quoted keys with escapes, so a double-quoted token is its text between the quotes."""
    return unquote_single(token[1:-1]) if token[:1] == "'" else token[1:-1]


def shown(text: str) -> str:
    """`text` safe to put on a terminal: control, format and line-separator characters are
    written as escapes (`\\x1b`, `\\u2028`), never raw."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)
