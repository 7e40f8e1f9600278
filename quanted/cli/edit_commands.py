"""`layers`, `add`, `remove`, `check`: read and edit customized_quantize_layers."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.cli import selection
from quanted.cli.interrupted import warn_if_interrupted
from quanted.cli.open_command import ENTROPY_HELP
from quanted.core.format import qtypes
from quanted.core.document.edit import edit_file
from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import EditError
from quanted.core.format.keys import shown
from quanted.core.format.validate import (
    ERROR,
    check,
    input_problem,
    qtype_problem,
    resolve_layer,
    unknown_layer_message,
)

if TYPE_CHECKING:
    from quanted.cli.selection import Picked

# numpy (via the entropy report) is imported only by the commands that read entropy:
# it costs 90 ms, a third of the 0.3 s budget for `add` and `remove` on a 15 MB file.


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("layers", help="list layers, worst entropy first",
                       description="One row per layer id, highest max entropy first; "
                       "layers without entropy last.")
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    _entropy_option(p)
    selection.selection_options(p, "list only")
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
    selection.selection_options(p, "add")
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
    from quanted.core.state import recovery

    print(f"{shown(str(args.file))}: {recovery.recover(args.file, keep=args.keep)}")
    return 0


def _entropy_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-e", "--entropy", type=Path, metavar="ENTROPY", help=ENTROPY_HELP)


def cmd_layers(args: argparse.Namespace) -> int:
    from quanted.cli import analyze_command, layers_output, table_fit
    from quanted.core.document.layers import LayerIndex, sort_by_entropy

    doc = QuantizeDocument.open(args.file)
    warn_if_interrupted(args.file)
    index = LayerIndex.of(doc)
    del doc  # the file's bytes go before the report and the rows come
    rows, _ = selection.entropy_rows(args, index)
    figures = analyze_command.current_figures(args.file)  # a current cached `quanted analyze`
    if args.above is not None or args.top is not None or args.by == "drop":
        rows = selection.selected(args, rows, figures)
    else:
        rows = sort_by_entropy(rows)
    if args.json:
        layers_output.write_json(sys.stdout, rows, figures)
    else:
        layers_output.write_table(sys.stdout, rows, figures,
                                  fit=table_fit.terminal_width(sys.stdout))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    _refuse_bad_input([*args.layers, args.qtype], args.comment, args.file)
    picked: list[Picked] = []

    def pick() -> None:  # under the edit's lock: its own read of the file, let go before
        if args.above is not None or args.top is not None:
            picked.append(selection.pick(args))

    messages = edit_file(args.file, lambda doc: _add(doc, args, picked[0] if picked else None),
                         force=args.force, first=pick)
    _confirm(messages, args.file)  # only once it is written: a failed save printed nothing
    return 0


def _confirm(messages: list[str], path: Path) -> None:
    """Print what an edit did, once it is saved. A stdout that cannot take it (a full disk)
    does not undo the edit: a warning on stderr, and the edit's exit status (0)."""
    try:
        print("\n".join(messages))
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the reader left: not an error (cli/dispatch.py)
    except OSError as exc:
        try:
            print(f"quanted: warning: {path}: saved, but its confirmation could not be "
                  f"printed ({exc.strerror or exc})", file=sys.stderr)
        except OSError:
            pass
        # The exit's flush would fail on what is still buffered: it goes nowhere instead.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _add(doc: QuantizeDocument, args: argparse.Namespace, picked: Picked | None) -> list[str]:
    problem = qtype_problem(args.qtype)
    errors: list[str] = []
    if problem is not None and problem[0] == ERROR:
        errors.append(problem[1])
    if picked is not None:  # the named layers too, checked where the picked ones were found
        errors += picked.errors
        layers = _still_layers(doc, picked, errors)
    else:
        if not args.layers:
            errors.append("name the layers to add, or pick them with --above T / --top N")
        layers = [resolve_layer(doc, name) for name in args.layers]  # byte searches: a few
        errors += _unknown(doc, [name for name, layer in zip(args.layers, layers)
                                 if not doc.has_layer(layer)])
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


def _still_layers(doc: QuantizeDocument, picked: Picked, errors: list[str]) -> list[str]:
    """The picked layers; each one gone from the file since it was picked (another program
    wrote it meanwhile, not a quanted edit: those wait for the lock) is an unknown layer."""
    if picked.stamp is not None and doc.stamp == picked.stamp:
        return picked.layers  # the very version they were picked from
    doc.verify()  # the index reads the table as the full scan passed it (exit 2 if not)
    errors += _unknown(doc, picked.layers)
    return picked.layers


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
    messages = edit_file(args.file, lambda doc: _remove(doc, args), force=args.force)
    _confirm(messages, args.file)
    return 0


def _unknown(doc: QuantizeDocument, names: list[str]) -> list[str]:
    """Why each of `names` the file lacks is no layer, with a "did you mean" read from one
    TensorIndex: the document's list of every key and its grouping were 1.8x the file at
    150 MB. Callers with a few names keep the byte search's misses (none: no index)."""
    if not names:
        return []
    from quanted.core.format.tensor_index import TensorIndex

    index = TensorIndex.of(doc)
    return [unknown_layer_message(index, name) for name in names if not index.has_layer(name)]


def _remove(doc: QuantizeDocument, args: argparse.Namespace) -> list[str]:
    current = doc.customized
    layers = [name if name in current else resolve_layer(doc, name) for name in args.layers]
    errors = [f"{message}, nor in customized_quantize_layers" for message in _unknown(
        doc, [name for name, layer in zip(args.layers, layers)
              if layer not in current and not doc.has_layer(layer)])]
    if errors:
        doc.verify()  # a broken file is exit 2, not an unknown layer
    _fail_if(errors, args.file)
    wanted = list(dict.fromkeys(layers))
    removed = [layer for layer in wanted if layer in current]
    if removed:
        doc.remove_layers(removed)  # one pass, one undo step
    return [f"removed {shown(layer)}" if layer in current
            else f"unchanged {shown(layer)}: not customized" for layer in wanted]


def _fail_if(errors: list[str], path: Path) -> None:
    if not errors:
        return
    for message in errors[:-1]:
        print(f"quanted: error: {path}: {message}", file=sys.stderr)
    raise EditError(errors[-1], path)


def cmd_check(args: argparse.Namespace) -> int:
    from quanted.core.format.entropy import resolve
    from quanted.core.format.tensor_index import TensorIndex
    from quanted.core.format.validate import report_problems

    doc = QuantizeDocument.open(args.file)
    warn_if_interrupted(args.file)
    found = resolve(args.file, args.entropy)
    index = TensorIndex.of(doc)  # the keys by layer: a fifth of their list's memory
    problems = check(doc, None, index)
    customized = len(doc.customized)
    del doc  # the file's bytes go before the report is read (a piece at a time)
    if found.path is not None:
        problems += report_problems(index, found.path)
    selection.note(found.note)
    for problem in problems:
        print(problem.format(str(args.file)))
    if problems:
        return 1
    print(f"{args.file}: ok ({len(index)} layers, {customized} customized)")
    return 0
