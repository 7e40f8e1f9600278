"""Small words the screens share: counts with the right plural, thresholds written one way."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`count(1, "layer")` -> "1 layer"; `count(3, "layer")` -> "3 layers"."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def threshold(value: float) -> str:
    """Every place that shows the `>` threshold writes it the same way: 0.4388, 0.5."""
    return f"{value:.4g}"
