"""`analyze`: per-layer float vs quantized error, worst damage first; and the analysis columns
`layers` shows when a current analysis is cached."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from quanted.cli import table_fit
from quanted.cli.engine_io import engine_log, kept_log, pegasus_option, print_failed, print_json

if TYPE_CHECKING:
    from quanted.core.engine.analysis import Analysis, Progress
    from quanted.core.engine.layer_figures import LayerFigures

# The engine modules (numpy) are imported in the handler: `quanted add` must stay fast.

DESCRIPTION = """\
Run the float model and FILE's quantized model through `pegasus inference` in FILE's folder,
with every layer output dumped for each of N calibration inputs, and compare each layer's
output (float vs quantized, element by element):
  cosine       cosine similarity, mean over the inputs (cosine_min: the worst input)
  drop         the damage this layer does itself: the lowest cosine among the layers that
               feed it, minus its own (null when a producer has no figures; for the model
               input, 1 - cosine). A large drop is where float and quantized part ways.
  sqnr_db      10*log10(sum f^2 / sum (f-q)^2) over all inputs (null when equal)
  max_abs_error
A tensor whose consumers are all clamping activations (relu, relu6, relun, clip) is quantized
to the activation's range, so it is compared with the float output clamped to where its
quantized values saturate: [min_value, max_value] for asymmetric_affine, the qtype's range for
dynamic_fixed_point ("clamped": true, marked `c`); cosine_raw is always the raw comparison.
A converter layer a hybrid run inserted is compared with the float output it converts.
After the table, per model output (as `quanted verify` gives them, from the same runs): kind,
worst cosine, SQNR, max abs error and the resolution check (COLLAPSED), then what the quantized
run measured ("quantized: the file's table: N layer(s) raised").
The result is cached in .quanted/analysis/: analyzing an unchanged file runs no engine, and
the float run is reused after an edit (one engine run).

--json prints exactly one object (the log goes to stderr):
  {"file", "iterations", "model": the quantized run's model .json,
   "configuration": what the quantized run measured,
   "layers": [{"layer", "port", "cosine", "cosine_min", "cosine_raw", "clamped", "sqnr_db",
               "max_abs_error", "drop", "max_entropy", "customized", "converter"}],
   "outputs": {TENSOR: {"tensor", "kind", "count", "min_cosine", "mean_cosine", "sqnr_db",
                        "max_abs_error", "resolution": {..., "collapsed", "why"},
                        "top1_agree", "mean_top5_overlap"}} (as verify's per-output figures)}
exit status: 0 ok, the engine's status when a run fails, 2 unreadable input, 130 cancelled."""

SORTS = ("drop", "cosine", "entropy")
TOP_NOTED = 10  # the largest drops the note after the table checks for customized layers
BAR_WIDTH = 12
FIGURE_KEYS = ("cosine", "cosine_min", "cosine_raw", "clamped", "sqnr_db", "max_abs_error",
               "drop", "converter")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="per-layer float vs quantized error (cosine, drop), worst first",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    p.add_argument("--iterations", type=int, metavar="N",
                   help="calibration inputs to compare (default: every input the dataset lists)")
    pegasus_option(p)
    p.add_argument("--json", action="store_true",
                   help="print the result as one JSON object on stdout (the log goes to stderr)")
    p.add_argument("--sort", choices=SORTS, default="drop",
                   help="drop: largest first (default); cosine: lowest first; entropy: highest "
                   "max entropy first")
    p.set_defaults(handler=cmd_analyze)


def cmd_analyze(args: argparse.Namespace) -> int:
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.engine import analysis
    from quanted.core.engine.step import Cancel, Events, StepFailed
    from quanted.core.errors import QuantedError

    if args.iterations is not None and args.iterations < 1:
        raise QuantedError("--iterations must be at least 1", args.file)
    log, on_line = engine_log(quiet=False)

    def on_progress(p: Progress) -> None:
        where = f"input {p.input} of {p.inputs}" if p.input else "starting"
        log.write(f"quanted: [{p.run}/{p.runs}] {p.title} run: {where}\n")
        log.flush()

    the_plan = analysis.plan(QuantizeDocument.open(args.file), args.iterations, args.pegasus)
    pending = _note_pending(args.file)
    try:
        with kept_log(args.file, "analyze", on_line) as kept:
            result = analysis.run(the_plan, Events(line=kept, progress=on_progress), Cancel())
    except StepFailed as failed:
        return print_failed(failed, args.file, named="the {} run")
    if result.engine_runs == 0:
        log.write(f"quanted: the file is unchanged since the analysis of {result.time} "
                  "(.quanted/analysis/): no engine run\n")
    entropy, customized = _joins(args.file)
    items = sort_layers(result.layers, args.sort, entropy)
    if args.json:
        print_json(to_json(args.file, result, items, entropy, customized))
        return 0
    fit = table_fit.terminal_width(sys.stdout)
    if fit is not None:
        write_fitted(sys.stdout, items, entropy, customized, fit, pending)
    else:
        write_table(sys.stdout, items, entropy, customized, bars=False)
    write_summary(sys.stdout, result, fit)
    _note_pending_after(pending, items)
    return 0


def write_summary(out: TextIO, result: Analysis, width: int | None = None) -> None:
    """After the table: per model output, the figures verify gives (verify_table.output_lines),
    and what the quantized run measured, in verify's words. On a terminal `width` wide the
    sentences saying why an output collapsed are wrapped (the rows stay whole, as verify's)."""
    import textwrap

    from quanted.cli.verify_table import output_lines

    if result.outputs:
        out.write("\n")
        for line in output_lines("quantized", result.outputs):
            if width is not None and line.startswith("  collapsed: ") and len(line) > width:
                wrapped = textwrap.wrap(line, width - 1, subsequent_indent="    ")
                out.write("\n".join(wrapped) + "\n")
            else:
                out.write(line + "\n")
    if result.configuration:
        out.write(f"quantized: {result.configuration}\n")


def _note_pending(path: Path) -> list[str]:
    """Customized layers the file's quantize_parameters do not apply yet are not analyzed as
    customized: say so before the run, as verify does; returns them."""
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.document.layers import applied_qtypes, is_pending

    doc = QuantizeDocument.open(path)
    applied = applied_qtypes(doc)
    pending = [layer for layer, value in doc.customized.items()
               if is_pending(layer, value, applied)]
    if pending:
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        shown = ", ".join(pending[:3]) + more
        print(f"quanted: note: {len(pending)} customized layer(s) are not applied in "
              f"quantize_parameters yet ({shown}): this analyzes the quantization the file has; "
              "`quanted hybrid` applies them", file=sys.stderr)
    return pending


def _note_pending_after(pending: list[str], items: list[LayerFigures]) -> None:
    """Where the table is (the note before the run is a screenful of log up): which of the
    worst layers are customized already, only not applied."""
    if not pending:
        return
    ranked = [it.layer for it in sort_layers(items, "drop", {}) if it.drop is not None][:TOP_NOTED]
    among = [layer for layer in ranked if layer in pending]
    sys.stdout.flush()  # the note follows the table on a terminal
    where = (f"; among the {len(ranked)} largest drops: {', '.join(among)}" if among else "")
    print(f"quanted: note: {len(pending)} customized layer(s) are not applied yet (○ in the "
          f"table on a terminal): the analysis measured them at the file's qtype{where}; "
          "`quanted hybrid` applies them", file=sys.stderr)


def _joins(path: Path) -> tuple[dict[str, float], dict[str, str]]:
    """max entropy per layer (from the entropy report beside the file, when there) and the
    customized qtypes, as the file holds them now."""
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.format.entropy import EntropyReport, resolve

    doc = QuantizeDocument.open(path)
    found = resolve(path).path
    report = EntropyReport.read(found) if found is not None else None
    entropy = {layer: max(ports.values())
               for layer, ports in (report.by_layer().items() if report else []) if ports}
    return entropy, doc.customized


def sort_layers(items: list[LayerFigures], key: str, entropy: dict[str, float]
                ) -> list[LayerFigures]:
    """drop: largest first; cosine: lowest first; entropy: highest first; missing values last,
    ties in graph order."""
    order = {id(item): i for i, item in enumerate(items)}

    def value(item: LayerFigures) -> float | None:
        if key == "drop":
            return None if item.drop is None else -item.drop
        if key == "cosine":
            return item.cosine
        found = entropy.get(item.layer)
        return None if found is None else -found

    return sorted(items, key=lambda it: (value(it) is None, value(it) or 0.0, order[id(it)]))


def to_json(path: Path, result: Analysis, items: list[LayerFigures], entropy: dict[str, float],
            customized: dict[str, str]) -> dict:
    return {
        "file": str(path),
        "iterations": result.iterations,
        "model": str(result.model),
        "configuration": result.configuration,
        "outputs": {tensor: figures.to_json() for tensor, figures in result.outputs.items()},
        "layers": [{"layer": it.layer, "port": it.port, "cosine": it.cosine,
                    "cosine_min": it.cosine_min, "cosine_raw": it.cosine_raw,
                    "clamped": it.clamped, "sqnr_db": it.sqnr_db,
                    "max_abs_error": it.max_abs_error, "drop": it.drop,
                    "max_entropy": entropy.get(it.layer),
                    "customized": customized.get(it.layer), "converter": it.converter}
                   for it in items],
    }


def bar(value: float | None, top: float, width: int = BAR_WIDTH) -> str:
    """A left-aligned block bar of value/top, in eighths of a cell."""
    if value is None or top <= 0 or value <= 0:
        return ""
    eighths = round(min(value / top, 1.0) * width * 8)
    return "█" * (eighths // 8) + ("▏▎▍▌▋▊▉"[eighths % 8 - 1] if eighths % 8 else "")


def write_table(out: TextIO, items: list[LayerFigures], entropy: dict[str, float],
                customized: dict[str, str], bars: bool) -> None:
    width = min(max([len(_label(it)) for it in items] + [5]), 70)
    top = max((it.drop for it in items if it.drop is not None), default=0.0)
    out.write(f"{'LAYER':<{width}}  {'COSINE':>9}  {'DROP':>9}  {'SQNR dB':>7}  {'ENTROPY':>7}"
              f"  QTYPE\n")
    for it in items:
        cos = f"{it.cosine:.6f}" + ("c" if it.clamped else " ")
        drop = "-" if it.drop is None else f"{it.drop:+.6f}"
        sqnr = "-" if it.sqnr_db is None else f"{it.sqnr_db:.1f}"
        ent = entropy.get(it.layer)
        qtype = customized.get(it.layer) or "-"
        line = (f"{_label(it):<{width}}  {cos:>9}  {drop:>9}  {sqnr:>7}  "
                f"{'-' if ent is None else f'{ent:.4f}':>7}  {qtype}")
        if bars:
            line += "  " + bar(it.drop, top)
        out.write(line.rstrip() + "\n")
    if any(it.clamped for it in items):
        out.write("c: compared with the float output clamped to the tensor's range "
                  "(its consumers all clamp); --json has cosine_raw\n")


def write_fitted(out: TextIO, items: list[LayerFigures], entropy: dict[str, float],
                 customized: dict[str, str], width: int, pending: Sequence[str] = ()) -> None:
    """The table in a terminal `width` wide (table_fit.py): ids shortened, four decimals,
    SQNR, ENTROPY and the bars left out, in that order, before the ids get too narrow."""
    from quanted.core.format import qtypes
    from quanted.core.format.keys import shown

    top = max((it.drop for it in items if it.drop is not None), default=0.0)
    qtype = [qtypes.short(shown(customized[it.layer])) if it.layer in customized else "-"
             for it in items]
    columns = [table_fit.Column("COSINE", 7), table_fit.Column("DROP", 7),
               table_fit.Column("SQNR dB", 7, optional=True),
               table_fit.Column("ENTROPY", 7, optional=True),
               table_fit.Column("QTYPE", max([len(q) for q in qtype] + [5])),
               table_fit.Column("", BAR_WIDTH - 2, optional=True)]
    names = [shown(_label(it, converter_mark=False)) for it in items]
    ids, kept, id_width = table_fit.fitted(names, columns, width - 2)
    titles = [c.title for c in kept]
    head = "".join(f"  {c.title:>{c.width}}" for c in kept if c.title not in ("QTYPE", ""))
    out.write(f"  {table_fit.pad('LAYER', id_width)}{head}  QTYPE\n")
    for it, name, q in zip(items, ids, qtype):
        ent = entropy.get(it.layer)
        values = {"COSINE": f"{it.cosine:.4f}" + ("c" if it.clamped else " "),
                  "DROP": "-" if it.drop is None else f"{it.drop:+.4f}",
                  "SQNR dB": "-" if it.sqnr_db is None else f"{it.sqnr_db:.1f}",
                  "ENTROPY": "-" if ent is None else f"{ent:.4f}"}
        cells = "".join(f"  {values[t]:>{c.width}}" for c, t in zip(kept, titles)
                        if t not in ("QTYPE", ""))
        bars = f"  {bar(it.drop, top, BAR_WIDTH - 2)}" if "" in titles else ""
        mark = "⇄" if it.converter else "○" if it.layer in pending else " "
        out.write(f"{mark} {table_fit.pad(name, id_width)}{cells}  "
                  f"{table_fit.pad(q, kept[titles.index('QTYPE')].width)}{bars}".rstrip() + "\n")
    notes = []
    if any(it.converter for it in items):
        notes.append("⇄ a converter a hybrid run inserted")
    if any(it.clamped for it in items):
        notes.append("c: compared with the float output clamped to the tensor's range")
    dropped = [c.title for c in columns if c.title not in titles and c.title]
    if dropped:
        notes.append(f"{', '.join(dropped)} left out to fit; --json has every figure")
    for note in notes:
        out.write(note + "\n")


def _label(item: LayerFigures, converter_mark: bool = True) -> str:
    name = item.layer if item.port == "out0" else f"{item.layer}:{item.port}"
    return name + (" [converter]" if item.converter and converter_mark else "")


# -- `quanted layers` --------------------------------------------------------------------------


def current_figures(path: Path) -> dict[str, LayerFigures] | None:
    """The current cached analysis's figures by layer, or None (no analysis, or a stale one)."""
    from quanted.core.engine.analysis_cache import CACHE_DIR

    if not (path.absolute().parent / CACHE_DIR).is_dir():
        return None  # nothing cached: do not hash the model files
    from quanted.core.engine.analysis import age_text, load_latest

    found = load_latest(path)
    if found is not None and not found.current:
        print(f"quanted: note: the cached analysis ({age_text(found.age_seconds())} old) is stale: "
              f"the file or its model changed; `quanted analyze {path}` renews it",
              file=sys.stderr)
    return found.by_layer() if found is not None and found.current else None



def figure_json(item: LayerFigures | None) -> dict[str, object]:
    """The analysis keys `layers --json` adds to a row (null without figures)."""
    if item is None:
        return dict.fromkeys(FIGURE_KEYS)
    return {key: getattr(item, key) for key in FIGURE_KEYS}


def figure_cells(item: LayerFigures | None) -> str:
    if item is None:
        return f"{'-':>9}  {'-':>9}"
    drop = "-" if item.drop is None else f"{item.drop:+.6f}"
    return f"{item.cosine:>9.6f}  {drop:>9}"
