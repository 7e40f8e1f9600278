"""Where the `>` threshold starts, per metric (entropy or drop), and why: the dialog and the
help screen say the same."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from quanted.tui.row_model import DROP, RowModel


def threshold_reason(model: RowModel) -> str:
    """Why default_threshold chose its value, for the `>` dialog and the help screen."""
    if model.metric == DROP:
        return ("Starts at the top 5% of the analysed layers by drop: the few whose own "
                "quantization loses the most cosine (never below the smallest drop above 0).")
    if any(r.customized is not None and r.entropy for r in model.rows):
        return ("Starts at the lowest max entropy among the layers already customized: "
                "every layer at least as bad as one you (or ACUITY) chose.")
    return "Starts at the top 5% of layers by max entropy (none is customized yet)."


def default_threshold(model: RowModel) -> float:
    """Entropy: the lowest max entropy among customized layers, else the top 5% of layers.
    Drop: the top 5% of layers (customized layers' drops tell nothing: an analysis after
    raising them measures them raised)."""
    if model.metric == DROP:
        return drop_threshold(model.ranked_values())
    values = [max(r.entropy.values()) for r in model.rows if r.customized is not None and r.entropy]
    if values:
        return round(min(values), 4)
    ranked = model.at_or_above(0.0)
    return round(ranked[len(ranked) // 20].max_entropy or 0.5, 4) if ranked else 0.5


def drop_threshold(drops: list[float]) -> float:
    """The drop of the layer at the top 5% (`drops`: highest first), never below the smallest
    drop above 0 (a layer that loses no cosine is not worth raising); 1.0, which proposes
    nothing, when no layer loses any. Rounded down to the 4 digits the status line shows, so
    the layer it was taken from is still at or above it."""
    positive = [value for value in drops if value > 0.0]
    if not positive:
        return 1.0
    value = Decimal(repr(max(drops[len(drops) // 20], positive[-1])))
    step = Decimal(1).scaleb(value.adjusted() - 3)
    return min(1.0, float(value.quantize(step, rounding=ROUND_FLOOR)))
