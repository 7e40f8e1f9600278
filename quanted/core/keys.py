"""Tensor keys and layer ids."""

from __future__ import annotations


def split_tensor_key(key: str) -> tuple[str, str]:
    """`'@c2_6:out0'` -> ('c2_6', 'out0'). Layer ids may hold ':', so split at the LAST one."""
    body = key[1:] if key.startswith("@") else key
    layer, sep, port = body.rpartition(":")
    return (layer, port) if sep else (body, "")


def looks_like_tensor_key(text: str) -> bool:
    return text.startswith("@") and ":" in text
