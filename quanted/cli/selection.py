"""--above/--top/--by: the layers `quanted layers` lists and `quanted add` picks, from the
entropy report (or an analysis's drops) joined with the file's layer index."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import EditError
from quanted.core.disk.stamp import DiskStamp

if TYPE_CHECKING:
    from quanted.core.engine.layer_figures import LayerFigures
    from quanted.core.format.entropy import LayerEntropy
    from quanted.core.document.layers import LayerIndex, LayerRow

# numpy (via the entropy report) is imported only by the commands that read entropy.


def selection_options(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument("--above", type=float, metavar="T",
                   help=f"{verb} the layers whose max entropy (or drop, with --by drop) is at "
                   "or above T (no converter layers, no layers missing from the file)")
    p.add_argument("--top", type=int, metavar="N",
                   help=f"{verb} the N layers of worst entropy or drop (with --above: of those)")
    p.add_argument("--by", choices=("entropy", "drop"), default="entropy",
                   help="what --above and --top rank by: max entropy (default), or drop from "
                   "the current cached `quanted analyze` (layers without a drop left out)")


def selected(args: argparse.Namespace, rows: list[LayerRow],
             figures: dict[str, LayerFigures] | None = None) -> list[LayerRow]:
    """`figures`: the current analysis when the caller has read it (read here for --by drop
    when not given)."""
    from quanted.core.document.layers import candidates

    if args.top is not None and args.top < 0:
        raise EditError("--top must be 0 or more", args.file)
    drops = None
    if args.by == "drop":
        from quanted.cli import analyze_command

        if figures is None:
            figures = analyze_command.current_figures(args.file)
        if figures is None:
            raise EditError("--by drop needs a current analysis of the file: run `quanted "
                            f"analyze {args.file}` first", args.file)
        drops = {layer: found.drop for layer, found in figures.items()}
    return candidates(rows, args.above, args.top, drops)


def entropy_rows(args: argparse.Namespace, doc: LayerIndex) -> tuple[list[LayerRow], bool]:
    """The layer rows with the resolved entropy report (and the reports of earlier hybrid
    runs for customized layers the current one lacks); and whether there was a report."""
    from quanted.core.format.entropy import earlier_reports
    from quanted.core.document.layers import build_rows, chosen_without_entropy, keep_chosen_entropy

    report = load_layer_entropy(args.entropy, args.file)
    rows = build_rows(doc, report)
    missing = {row.layer for row in chosen_without_entropy(rows)}
    if report is not None and missing:
        # Only then, and only those layers: up to five reports, each as large as the current.
        keep_chosen_entropy(rows, earlier_reports(args.file, missing))
    return rows, report is not None


def load_layer_entropy(path: Path | None, quantize_path: Path) -> LayerEntropy | None:
    """The report core.format.entropy.resolve picks, read only by layer (all the rows need; its keys
    are not held); its note (none found, a newer one) on stderr."""
    from quanted.core.format.entropy import LayerEntropy, resolve

    found = resolve(quantize_path, path)
    report = LayerEntropy.read(found.path) if found.path is not None else None
    note(found.note)
    return report


def note(text: str | None) -> None:
    if text is not None:
        print(f"quanted: note: {text}; -e ENTROPY names one", file=sys.stderr)


class Picked(NamedTuple):
    """What `add --above/--top` picked, before the add itself reads the file."""

    layers: list[str]  # the named layers found in the file, then the picked ones, worst first
    errors: list[str]  # no report, unknown named layers: reported with add's own errors
    stamp: DiskStamp | None  # the version of the file they were found in


def pick(args: argparse.Namespace) -> Picked:
    """The layers --above/--top picks, from the file's layer index and the entropy rows, after
    the layers named beside them. The file's bytes are let go before the report and the rows
    are built, and all of them before the add reads the bytes again (under the same lock):
    holding bytes, index, report and rows at once was twice the file's size in memory."""
    from quanted.core.document.layers import LayerIndex
    from quanted.core.format.tensor_index import TensorIndex
    from quanted.core.format.validate import resolve_layer, unknown_layer_message

    doc = QuantizeDocument.open(args.file)  # a broken file's error before any note
    stamp = doc.stamp  # the version of the bytes the layers are picked from
    known = TensorIndex.of(doc)
    index = LayerIndex.of(doc, known)
    del doc
    rows, has_report = entropy_rows(args, index)
    del index
    has_report = has_report or args.by == "drop"  # drop comes from the analysis
    errors = [] if has_report else ["--above and --top need an entropy report (-e ENTROPY)"]
    found = [row.layer for row in selected(args, rows)]
    del rows
    if has_report and not found and not args.layers:
        print("no layer matches --above/--top; nothing to add", file=sys.stderr)
    layers = []
    for name in [*args.layers, *found]:
        layer = resolve_layer(known, name)
        if known.has_layer(layer):
            layers.append(layer)
        else:
            errors.append(unknown_layer_message(known, name))
    del known
    _give_back_memory()
    return Picked(layers, errors, stamp)


def _give_back_memory() -> None:
    """The memory of the index, the report and the rows, returned to the system before the
    add reads the file again; freed is not returned. The interpreter's free lists keep some
    of their small objects, scattered, each pinning its arena: a full collection empties
    them. glibc keeps freed pages in its heap until malloc_trim (numpy has loaded ctypes).
    Together 0.6x of the file's size less at 15 MB, 0.7x at 150 MB."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
            pass
