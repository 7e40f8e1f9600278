"""Small words the screens share: counts with the right plural, thresholds written one way,
why a layer cannot be added."""

from __future__ import annotations

from quanted.core.document.layers import LayerRow


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`count(1, "layer")` -> "1 layer"; `count(3, "layer")` -> "3 layers"."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def threshold(value: float) -> str:
    """Every place that shows the `>` threshold writes it the same way: 0.4388, 0.5."""
    return f"{value:.4g}"


def cannot_add(row: LayerRow) -> str | None:
    """Why space or t refuses to add `row` to customized_quantize_layers; None when it may.
    A converter is in quantize_parameters, but pegasus inserted it between two quantizations:
    giving it a qtype of its own is not what the user means, and the next run replaces it."""
    if row.converter:
        return f"{row.layer}: converter layer inserted by the engine; it cannot be customized."
    if not row.in_file:
        return f"{row.layer} is not in quantize_parameters; not added."
    return None
