"""The per-output figures as a Rich table (verify's result, the analysis summary): one row per
model output over every input, a collapsed output in red with why."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from quanted.core.engine.output_figures import OutputFigures


def outputs_table(name: str, outputs: dict[str, OutputFigures], compact: bool = False) -> Table:
    """Per output over every input; a collapsed output in red with why. `compact` (the analyze
    screen, above its largest drops): without the distinct-value columns, borders or left
    padding, and why an output collapsed under the table instead of in a row, so an 80-column
    screen keeps detnet's ids whole."""
    count = next(iter(outputs.values())).count
    collapsed = [f for f in outputs.values() if f.resolution.collapsed]
    table = Table(title=f"per output, {name} vs float over {count} input(s)",
                  title_justify="left", title_style="bold", expand=False,
                  box=None if compact else box.SIMPLE_HEAD, pad_edge=not compact,
                  padding=(0, 1, 0, 0) if compact else (0, 1),
                  header_style="bold underline" if compact else "table.header",
                  caption="\n".join(f"collapsed: {f.tensor}: {f.resolution.why}"
                                    for f in collapsed) if compact and collapsed else None,
                  caption_justify="left", caption_style="red")
    columns = ["output", "kind", "min cos", "SQNR dB", "max abs err"]
    columns += ["steps/mid"] if compact else ["distinct q/f", "middle q/f", "steps/mid"]
    for column in columns:
        table.add_column(column, no_wrap=column != "output")
    worst = min(outputs.values(), key=lambda f: f.min_cosine)
    for f in outputs.values():
        r = f.resolution
        steps = "-" if r.levels is None else f"{r.levels:.1f}"
        distinct = [] if compact else [f"{r.distinct_quantized}/{r.distinct_float}",
                                       f"{r.middle_quantized}/{r.middle_float}"]
        table.add_row(Text(f.tensor, style="bold" if f is worst else ""), f.kind,
                      f"{f.min_cosine:.6f}", "-" if f.sqnr_db is None else f"{f.sqnr_db:.1f}",
                      f"{f.max_abs_error:.6f}", *distinct,
                      Text(steps + (" COLLAPSED" if r.collapsed else ""),
                           style="bold red" if r.collapsed else ""))
    if not compact:
        for f in collapsed:
            table.add_row(Text(f"collapsed: {f.resolution.why}", style="red"))
    return table
