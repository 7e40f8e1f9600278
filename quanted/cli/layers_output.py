"""What `quanted layers` prints: the table, or the JSON array written a row at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from quanted.cli import analyze_command
from quanted.core.keys import shown

if TYPE_CHECKING:
    from quanted.core.engine.layer_figures import LayerFigures
    from quanted.core.layers import LayerRow


def write_json(out: TextIO, rows: Iterable[LayerRow],
               figures: dict[str, LayerFigures] | None) -> None:
    # The row's own `converter` (from the id) wins over the analysis's (null when unmeasured).
    write_json_list(out, ({**({} if figures is None else
                              analyze_command.figure_json(figures.get(row.layer))),
                           **row.to_json()} for row in rows))


def write_json_list(out: TextIO, items: Iterable[object]) -> None:
    """What `json.dump(list(items), out, indent=1)` and a newline write, an item at a time:
    the whole list of rows (200,000 dicts at 150 MB) is never held. A nested item is its own
    dump indented one more space (json escapes every newline inside a string)."""
    sep = "[\n "
    for item in items:
        out.write(sep + json.dumps(item, indent=1).replace("\n", "\n "))
        sep = ",\n "
    out.write("[]\n" if sep == "[\n " else "\n]\n")


def write_table(out: TextIO, rows: list[LayerRow],
                figures: dict[str, LayerFigures] | None) -> None:
    width = max((len(r.layer) for r in rows), default=5)
    width = min(max(width, 5), 80)
    extra = "" if figures is None else f"  {'COSINE':>9}  {'DROP':>9}"
    out.write(f"{'LAYER':<{width}}  {'OUT0':>8}  {'WEIGHT':>8}  {'MAX':>8}{extra}  CUSTOMIZED\n")
    for row in rows:
        cells = [_fmt(row.entropy.get("out0")), _fmt(row.entropy.get("weight")),
                 _fmt(row.max_entropy)]
        marks = [f for f in row.flags if f != "no entropy"]
        flags = f"  [{', '.join(marks)}]" if marks else ""
        figure = "" if figures is None else "  " + analyze_command.figure_cells(
            figures.get(row.layer))
        out.write(f"{shown(row.layer):<{width}}  {cells[0]:>8}  {cells[1]:>8}  {cells[2]:>8}"
                  f"{figure}  "
                  f"{shown(row.customized or '-')}{flags}\n")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
