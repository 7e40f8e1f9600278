"""The per-output figures as a Rich table (verify's result, the analysis summary): one row per
model output over every input, a collapsed output in red with why."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from quanted.core.engine.output_figures import OutputFigures


def outputs_table(name: str, outputs: dict[str, OutputFigures]) -> Table:
    """Per output over every input; a collapsed output in red with why."""
    count = next(iter(outputs.values())).count
    table = Table(title=f"per output, {name} vs float over {count} input(s)",
                  title_justify="left", title_style="bold", expand=False,
                  box=box.SIMPLE_HEAD)
    for column in ("output", "kind", "min cos", "SQNR dB", "max abs err", "distinct q/f",
                   "middle q/f", "steps/mid"):
        table.add_column(column)
    worst = min(outputs.values(), key=lambda f: f.min_cosine)
    for f in outputs.values():
        r = f.resolution
        steps = "-" if r.levels is None else f"{r.levels:.1f}"
        table.add_row(Text(f.tensor, style="bold" if f is worst else ""), f.kind,
                      f"{f.min_cosine:.6f}", "-" if f.sqnr_db is None else f"{f.sqnr_db:.1f}",
                      f"{f.max_abs_error:.6f}", f"{r.distinct_quantized}/{r.distinct_float}",
                      f"{r.middle_quantized}/{r.middle_float}",
                      Text(steps + (" COLLAPSED" if r.collapsed else ""),
                           style="bold red" if r.collapsed else ""))
    for f in outputs.values():
        if f.resolution.collapsed:
            table.add_row(Text(f"collapsed: {f.resolution.why}", style="red"))
    return table
