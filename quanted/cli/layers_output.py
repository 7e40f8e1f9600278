"""What `quanted layers` prints: the table, or the JSON array written a row at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from quanted.cli import analyze_command
from quanted.core.format.keys import shown

if TYPE_CHECKING:
    from quanted.core.engine.layer_figures import LayerFigures
    from quanted.core.document.layers import LayerRow


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
                figures: dict[str, LayerFigures] | None, fit: int | None = None) -> None:
    """The table; `fit`: a terminal's width to fit it in (table_fit.py), else full ids."""
    if fit is not None:
        write_fitted(out, rows, figures, fit)
        return
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


# Marks before an id in a fitted table (the editor's), explained below it when any is used.
MARKS = (("!", "not in the file"), ("⇄", "a converter a hybrid run inserted"),
         ("~", "entropy from the report saved before the hybrid run"))


def _mark(row: LayerRow) -> str:
    return "!" if not row.in_file else "⇄" if row.converter else "~" if row.entropy_from else " "


def write_fitted(out: TextIO, rows: list[LayerRow], figures: dict[str, LayerFigures] | None,
                 width: int) -> None:
    from quanted.cli.table_fit import Column, fitted, pad
    from quanted.core.format import qtypes

    custom = [qtypes.short(shown(r.customized)) if r.customized else "-" for r in rows]
    columns = [Column("OUT0", 6, optional=True), Column("WEIGHT", 6, optional=True),
               Column("MAX", 6)]
    if figures is not None:
        columns += [Column("COS", 7), Column("DROP", 7)]
    columns.append(Column("CUSTOM", max([len(c) for c in custom] + [6])))
    ids, kept, id_width = fitted([shown(r.layer) for r in rows], columns, width - 2)
    titles = {c.title for c in kept}
    out.write("  " + pad("LAYER", id_width)
              + "".join(f"  {c.title:>{c.width}}" if c.title != "CUSTOM" else f"  {c.title}"
                        for c in kept) + "\n")
    for row, name, qtype in zip(rows, ids, custom):
        values = {"OUT0": _fmt(row.entropy.get("out0")), "WEIGHT": _fmt(row.entropy.get("weight")),
                  "MAX": _fmt(row.max_entropy)}
        if figures is not None:
            found = figures.get(row.layer)
            values["COS"] = "-" if found is None else f"{found.cosine:.4f}"
            values["DROP"] = "-" if found is None or found.drop is None else f"{found.drop:+.4f}"
        cells = "".join(f"  {values[c.title]:>{c.width}}" for c in kept if c.title != "CUSTOM")
        out.write(f"{_mark(row)} {pad(name, id_width)}{cells}  {qtype}".rstrip() + "\n")
    used = {_mark(r) for r in rows}
    notes = [f"{mark} {text}" for mark, text in MARKS if mark in used]
    dropped = [c.title for c in columns if c.title not in titles]
    if dropped:
        notes.append(f"{', '.join(dropped)} left out to fit; piped, the table has them")
    for note in notes:
        out.write(note + "\n")
