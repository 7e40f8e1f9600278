"""The text `quanted verify` prints: float's top-5 beside each quantized top-5 (as in ACUITY's
hybrid guide) for class-score outputs, the figures under them, a table of per-output figures
(cosine, SQNR, max abs error, resolution) and one summary line per quantized run."""

from __future__ import annotations

from quanted.core.engine.output_figures import CLASS, OutputFigures
from quanted.core.engine.outputs import Comparison, VerifySummary
from quanted.core.engine.verify import PLAIN, QUANTIZED, VerifyResult

COLUMN = 22


def _cell(entry: tuple[int, float] | None) -> str:
    return "" if entry is None else f"{entry[0]}: {entry[1]:.6f}"


def _row(cells: list[str]) -> str:
    return "  " + "".join(cell.ljust(COLUMN) for cell in cells).rstrip()


def table_lines(result: VerifyResult) -> list[str]:
    """Per output and iteration: float's top-5 beside each quantized top-5, then the figures;
    a summary line per quantized run at the end."""
    columns: list[tuple[str, dict[str, list[Comparison]]]] = [("quantized", result.quantized)]
    if result.plain is not None:
        columns.append(("plain quantized", result.plain))
    lines: list[str] = []
    for tensor in result.tensors:
        if result.kinds.get(tensor, CLASS) != CLASS:
            lines += _values_lines(tensor, columns)
            continue
        for i, float_top in enumerate(result.float_top5[tensor]):
            lines.append(f"{tensor}  iteration {i}")
            lines.append(_row(["top-5 float", *(name for name, _ in columns)]))
            tops = [c[tensor][i].top5 for _, c in columns]
            for rank in range(max(len(float_top), *(len(t) for t in tops))):
                cells = [_cell(float_top[rank] if rank < len(float_top) else None)]
                cells += [_cell(t[rank] if rank < len(t) else None) for t in tops]
                lines.append(_row(cells))
            figures = [c[tensor][i] for _, c in columns]
            lines.append(_row(["cosine", *(f"{f.cosine:.6f}" for f in figures)]))
            lines.append(_row(["max abs error", *(f"{f.max_abs_error:.6f}" for f in figures)]))
            lines.append(_row(["top-1", *("same" if f.top1 else "DIFFERENT" for f in figures)]))
            n = len(float_top)
            lines.append(_row(["top-5 overlap",
                               *(f"{round(f.top5_overlap * n)}/{n}" for f in figures)]))
            lines.append("")
    for name, per_output in (("quantized", result.outputs), ("plain quantized",
                                                             result.plain_outputs)):
        if per_output:
            lines += output_lines(name, per_output) + [""]
    for name, run_figures in columns:
        summary = VerifySummary.of(run_figures, result.classes)
        if summary.count:
            lines.append(summary.line(name))
    if result.check is not None:
        lines.append(f"check {result.check}:")
        lines += [f"  {name}: {result.checks[label].text()}"
                  for name, label in (("quantized", QUANTIZED), ("plain quantized", PLAIN))
                  if label in result.checks]
    lines.extend(f"note: {note}" for note in result.notes)
    return lines


def _values_lines(tensor: str, columns: list[tuple[str, dict[str, list[Comparison]]]]
                  ) -> list[str]:
    """A values output (boxes, maps, logits): its figures per input, no top-5."""
    lines = [f"{tensor}  (values: no top-5)", _row(["input", *(name for name, _ in columns)])]
    for i in range(len(columns[0][1][tensor])):
        figures = [c[tensor][i] for _, c in columns]
        lines.append(_row([f"{i} cosine", *(f"{f.cosine:.6f}" for f in figures)]))
        lines.append(_row([f"{i} max abs error",
                           *(f"{f.max_abs_error:.6f}" for f in figures)]))
    return lines + [""]


HEADER = ("OUTPUT", "KIND", "MIN COS", "SQNR dB", "MAX ABS ERR", "DISTINCT Q/F", "MIDDLE Q/F",
          "STEPS/MID")


def output_lines(name: str, outputs: dict[str, OutputFigures]) -> list[str]:
    """One row per output (over every input), then the collapsed outputs with why."""
    rows = [HEADER]
    for figures in outputs.values():
        r = figures.resolution
        rows.append((figures.tensor, figures.kind, f"{figures.min_cosine:.6f}",
                     "-" if figures.sqnr_db is None else f"{figures.sqnr_db:.1f}",
                     f"{figures.max_abs_error:.6f}",
                     f"{r.distinct_quantized}/{r.distinct_float}",
                     f"{r.middle_quantized}/{r.middle_float}",
                     ("-" if r.levels is None else f"{r.levels:.1f}")
                     + ("  COLLAPSED" if r.collapsed else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    count = next(iter(outputs.values())).count
    lines = [f"per output, {name} vs float over {count} input(s):"]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]
              for row in rows]
    lines += [f"  collapsed: {f.tensor}: {f.resolution.why}" for f in outputs.values()
              if f.resolution.collapsed]
    worst = min(outputs.values(), key=lambda f: f.min_cosine)
    lines.append(f"  worst cosine {worst.min_cosine:.6f} ({worst.tensor})")
    return lines
