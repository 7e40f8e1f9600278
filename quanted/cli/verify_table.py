"""The text `quanted verify` prints: float's top-5 beside each quantized top-5 (as in ACUITY's
hybrid guide), the figures under them, and one summary line per quantized run."""

from __future__ import annotations

from quanted.core.engine.outputs import Comparison, VerifySummary
from quanted.core.engine.verify import VerifyResult

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
    for name, run_figures in columns:
        summary = VerifySummary.of(run_figures)
        if summary.count:
            lines.append(summary.line(name))
    lines.extend(f"note: {note}" for note in result.notes)
    return lines
