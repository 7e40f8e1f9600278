"""`layers`, `add`, `remove`, `check`: read and edit customized_quantize_layers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.cli.interrupted import refuse_if_interrupted, warn_if_interrupted
from quanted.cli.open_command import ENTROPY_HELP
from quanted.core import qtypes
from quanted.core.document import QuantizeDocument
from quanted.core.errors import EditError
from quanted.core.files import check_regular, locked
from quanted.core.keys import looks_like_tensor_key, shown, split_tensor_key
from quanted.core.validate import (
    ERROR,
    Layers,
    check,
    input_problem,
    qtype_problem,
    unknown_layer_message,
)

if TYPE_CHECKING:
    from quanted.core.entropy import LayerEntropy
    from quanted.core.layers import LayerIndex, LayerRow

# numpy (via the entropy report) is imported only by the commands that read entropy:
# it costs 90 ms, a third of the 0.3 s budget for `add` and `remove` on a 15 MB file.


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("layers", help="list layers, worst entropy first",
                       description="One row per layer id, highest max entropy first; "
                       "layers without entropy last.")
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    _entropy_option(p)
    _selection_options(p, "list only")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    p.set_defaults(handler=cmd_layers)

    p = sub.add_parser("add",
                       help="add layers to customized_quantize_layers (or change their qtype)",
                       description="Add the LAYERs, or the layers --above/--top picks from the "
                       "entropy report (converter layers a hybrid run inserted are never picked).")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("layers", nargs="*", metavar="LAYER",
                   help="layer ids; a tensor key like @c2_6:out0 names its layer")
    _entropy_option(p)
    _selection_options(p, "add")
    p.add_argument("--qtype", default=qtypes.DEFAULT_QTYPE,
                   help=f"one of {', '.join(qtypes.KNOWN_QTYPES)} (default: %(default)s)")
    p.add_argument("--comment", metavar="TEXT", help="a comment kept on each added layer's line")
    _force_option(p)
    p.set_defaults(handler=cmd_add)

    p = sub.add_parser("remove", help="remove layers from customized_quantize_layers",
                       description="Remove the LAYERs; one that is not customized is reported "
                       "`unchanged` (exit 0), like `add` of one that is.")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("layers", nargs="+", metavar="LAYER")
    _force_option(p)
    p.set_defaults(handler=cmd_remove)

    p = sub.add_parser(
        "recover", help="after a killed engine run: restore the file from before it, or keep it",
        description="A pegasus run that quanted started was stopped before it finished "
        "(quanted was killed, or the machine went down): FILE may be what pegasus left. "
        "Edits of FILE are refused until you choose. Without --keep the copy taken before "
        "the run (and entropy.txt's) is put back.")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--keep", action="store_true", help="keep FILE as it is now")
    p.set_defaults(handler=cmd_recover)

    p = sub.add_parser("check", help="report unknown layers, bad qtypes, duplicates",
                       description="One line per problem; exit 0 when clean, 1 with problems.")
    p.add_argument("file", type=Path, metavar="FILE")
    _entropy_option(p)
    p.set_defaults(handler=cmd_check)


def _force_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="write FILE even when it is read-only (its mode is kept)")


def cmd_recover(args: argparse.Namespace) -> int:
    from quanted.core import recovery

    print(f"{shown(str(args.file))}: {recovery.recover(args.file, keep=args.keep)}")
    return 0


def _entropy_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-e", "--entropy", type=Path, metavar="ENTROPY", help=ENTROPY_HELP)


def _selection_options(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument("--above", type=float, metavar="T",
                   help=f"{verb} the layers whose max entropy (or drop, with --by drop) is at "
                   "or above T (no converter layers, no layers missing from the file)")
    p.add_argument("--top", type=int, metavar="N",
                   help=f"{verb} the N layers of worst entropy or drop (with --above: of those)")
    p.add_argument("--by", choices=("entropy", "drop"), default="entropy",
                   help="what --above and --top rank by: max entropy (default), or drop from "
                   "the current cached `quanted analyze` (layers without a drop left out)")


def _selected(args: argparse.Namespace, rows: list[LayerRow]) -> list[LayerRow]:
    from quanted.core.layers import candidates

    if args.top is not None and args.top < 0:
        raise EditError("--top must be 0 or more", args.file)
    drops = None
    if args.by == "drop":
        from quanted.cli import analyze_command  # json and the engine's I/O: not for `add`

        figures = analyze_command.current_figures(args.file)
        if figures is None:
            raise EditError("--by drop needs a current analysis of the file: run `quanted "
                            f"analyze {args.file}` first", args.file)
        drops = {layer: found.drop for layer, found in figures.items()}
    return candidates(rows, args.above, args.top, drops)


def _rows(args: argparse.Namespace,
          doc: LayerIndex) -> tuple[list[LayerRow], bool]:
    """The layer rows with the resolved entropy report (and the reports of earlier hybrid
    runs for customized layers the current one lacks); and whether there was a report."""
    from quanted.core.entropy import earlier_reports
    from quanted.core.layers import build_rows, chosen_without_entropy, keep_chosen_entropy

    report = load_layer_entropy(args.entropy, args.file)
    rows = build_rows(doc, report)
    missing = {row.layer for row in chosen_without_entropy(rows)}
    if report is not None and missing:
        # Only then, and only those layers: up to five reports, each as large as the current.
        keep_chosen_entropy(rows, earlier_reports(args.file, missing))
    return rows, report is not None


def load_layer_entropy(path: Path | None, quantize_path: Path) -> LayerEntropy | None:
    """The report core.entropy.resolve picks, read only by layer (all the rows need; its keys
    are not held); its note (none found, a newer one) on stderr."""
    from quanted.core.entropy import LayerEntropy, resolve

    found = resolve(quantize_path, path)
    report = LayerEntropy.read(found.path) if found.path is not None else None
    _note(found.note)
    return report


def _note(note: str | None) -> None:
    if note is not None:
        print(f"quanted: note: {note}; -e ENTROPY names one", file=sys.stderr)


def cmd_layers(args: argparse.Namespace) -> int:
    from quanted.cli import analyze_command, layers_output
    from quanted.core.layers import LayerIndex, sort_by_entropy
    from quanted.core.tensor_index import TensorIndex

    doc = QuantizeDocument.open(args.file)
    warn_if_interrupted(args.file)
    # Layer ids with shared port tuples, not a str per tensor key: a fifth of the memory.
    index = LayerIndex(TensorIndex.of(doc).by_layer(), doc.customized)
    del doc  # the file's bytes go before the report and the rows come
    rows, _ = _rows(args, index)
    if args.above is not None or args.top is not None or args.by == "drop":
        rows = _selected(args, rows)
    else:
        rows = sort_by_entropy(rows)
    figures = analyze_command.current_figures(args.file)  # a current cached `quanted analyze`
    if args.json:
        layers_output.write_json(sys.stdout, rows, figures)
    else:
        layers_output.write_table(sys.stdout, rows, figures)
    return 0


def resolve_layer(doc: Layers, name: str) -> str:
    """A layer id from what the user typed; a tensor key names its layer."""
    if looks_like_tensor_key(name):
        layer = split_tensor_key(name)[0]
        if doc.has_layer(layer):
            return layer
    return name


def cmd_add(args: argparse.Namespace) -> int:
    _refuse_bad_input([*args.layers, args.qtype], args.comment, args.file)
    check_regular(args.file, "a .quantize file")  # before a lock file is made beside it
    # Locked from the read to the rename: a concurrent edit waits for this one, then builds
    # on it; none is lost.
    with locked(args.file):
        refuse_if_interrupted(args.file)
        # The fast index (or an earlier run's verdict on this version), a child already on
        # the back of a big table: the full scan runs in the save, while the new file is
        # written beside this one (replaced only if it passes), or in verify().
        doc = QuantizeDocument.open(args.file, full=False, split=True)
        try:
            messages = _add(doc, args)
            if doc.is_modified:
                doc.save(force=args.force)
            else:
                doc.verify()  # a broken file is exit 2 whether or not this add changed anything
        finally:
            doc.close()
    print("\n".join(messages))  # only once it is written: a failed save printed nothing
    return 0


def _add(doc: QuantizeDocument, args: argparse.Namespace) -> list[str]:
    problem = qtype_problem(args.qtype)
    errors: list[str] = []
    if problem is not None and problem[0] == ERROR:
        errors.append(problem[1])
    layers = []
    names = list(args.layers)
    known: Layers = doc  # which layers the file has: byte searches, for a few named ones
    if args.above is not None or args.top is not None:
        from quanted.core.layers import LayerIndex
        from quanted.core.tensor_index import TensorIndex

        doc.verify()  # a broken file's error before any note about the entropy report
        # The rows from the keys by layer, not a str per key beside the bytes add must keep.
        known = index = TensorIndex.of(doc)
        rows, has_report = _rows(args, LayerIndex(index.by_layer(), doc.customized))
        has_report = has_report or args.by == "drop"  # drop comes from the analysis
        if not has_report:
            errors.append("--above and --top need an entropy report (-e ENTROPY)")
        picked = [row.layer for row in _selected(args, rows)]
        if has_report and not picked and not names:
            print("no layer matches --above/--top; nothing to add", file=sys.stderr)
        names += picked
    elif not names:
        errors.append("name the layers to add, or pick them with --above T / --top N")
    for name in names:
        layer = resolve_layer(known, name)
        if not known.has_layer(layer):
            errors.append(unknown_layer_message(known, name))
        layers.append(layer)
    if errors:
        doc.verify()  # a file the full scan rejects is that error (exit 2), not an unknown layer
    _fail_if(errors, args.file)
    if problem is not None:
        doc.verify()  # a broken file's error, and no warning
        print(f"quanted: warning: {problem[1]}", file=sys.stderr)
    before = doc.customized
    messages = []
    unique = list(dict.fromkeys(layers))
    # One pass over the block for all layers: a loop of single edits is quadratic.
    with doc.batch():
        doc.set_layers(dict.fromkeys(unique, args.qtype))
        if args.comment is not None:
            doc.set_comments(dict.fromkeys(unique, args.comment))
    for layer in unique:
        old = before.get(layer)
        if old is None:
            messages.append(f"added {shown(layer)}: {shown(args.qtype)}")
        elif old != args.qtype:
            messages.append(f"changed {shown(layer)}: {shown(old)} -> {shown(args.qtype)}")
        else:
            messages.append(f"unchanged {shown(layer)}: {shown(args.qtype)}")
    return messages


def _refuse_bad_input(words: list[str], comment: str | None, path: Path) -> None:
    """Text the engine's YAML loader would reject, or read differently, never gets written."""
    errors = [f"layer or qtype {shown(w)!r}: {why}" for w in words
              if (why := input_problem(w)) is not None]
    if comment is not None:
        why = input_problem(comment, comment=True)
        if why is not None:
            errors.append(f"--comment: {why}")
    _fail_if(errors, path)


def cmd_remove(args: argparse.Namespace) -> int:
    """Idempotent like `add`: a layer of the file that is not customized is `unchanged`; a
    name that is neither customized nor a layer of the file is an error (a typo, most likely)."""
    _refuse_bad_input(args.layers, None, args.file)
    check_regular(args.file, "a .quantize file")
    with locked(args.file):
        refuse_if_interrupted(args.file)
        # The fast index, the full scan in the save (as `add`), or in verify().
        doc = QuantizeDocument.open(args.file, full=False, split=True)
        try:
            messages = _remove(doc, args)
        finally:
            doc.close()
    print("\n".join(messages))
    return 0


def _remove(doc: QuantizeDocument, args: argparse.Namespace) -> list[str]:
    current = doc.customized
    errors = []
    layers = []
    for name in args.layers:
        layer = name if name in current else resolve_layer(doc, name)
        if layer not in current and not doc.has_layer(layer):
            errors.append(f"{unknown_layer_message(doc, name)}, "
                          "nor in customized_quantize_layers")
        layers.append(layer)
    if errors:
        doc.verify()  # a broken file is exit 2, not an unknown layer
    _fail_if(errors, args.file)
    wanted = list(dict.fromkeys(layers))
    removed = [layer for layer in wanted if layer in current]
    if removed:
        doc.remove_layers(removed)  # one pass, one undo step
    if doc.is_modified:
        doc.save(force=args.force)
    else:
        doc.verify()  # a broken file is exit 2 whether or not anything was removed
    return [f"removed {shown(layer)}" if layer in current
            else f"unchanged {shown(layer)}: not customized" for layer in wanted]


def _fail_if(errors: list[str], path: Path) -> None:
    if not errors:
        return
    for message in errors[:-1]:
        print(f"quanted: error: {path}: {message}", file=sys.stderr)
    raise EditError(errors[-1], path)


def cmd_check(args: argparse.Namespace) -> int:
    from quanted.core.entropy import resolve
    from quanted.core.tensor_index import TensorIndex
    from quanted.core.validate import report_problems

    doc = QuantizeDocument.open(args.file)
    warn_if_interrupted(args.file)
    found = resolve(args.file, args.entropy)
    index = TensorIndex.of(doc)  # the keys by layer: a fifth of their list's memory
    problems = check(doc, None, index)
    customized = len(doc.customized)
    del doc  # the file's bytes go before the report is read (a piece at a time)
    if found.path is not None:
        problems += report_problems(index, found.path)
    _note(found.note)
    for problem in problems:
        print(problem.format(str(args.file)))
    if problems:
        return 1
    print(f"{args.file}: ok ({len(index)} layers, {customized} customized)")
    return 0
