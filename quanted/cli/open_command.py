"""`quanted [FILE] [-e ENTROPY]`: open the editor (no FILE: a copy of the bundled sample)."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path

from quanted.cli.interrupted import refuse_if_interrupted
from quanted.core.disk.files import check_regular

ENTROPY_HELP = ("the entropy report (default: NAME_entropy.txt, NAME.entropy.txt or entropy.txt "
                "beside FILE)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quanted",
        description="Open the editor on FILE; without FILE, on a copy of the bundled sample.",
    )
    parser.add_argument("file", type=Path, nargs="?", metavar="FILE",
                        help="the .quantize file; a MODEL.json or model folder offers the first "
                        "quantization")
    parser.add_argument("-e", "--entropy", type=Path, metavar="ENTROPY",
                        help=ENTROPY_HELP)
    parser.set_defaults(handler=run)
    return parser


def wants_editor(argv: Sequence[str], subcommands: Sequence[str]) -> bool:
    """True for `quanted`, `quanted FILE ...`, `quanted -e X FILE`; False for subcommands."""
    if not argv:
        return True
    first = argv[0]
    if first in ("-e", "--entropy") or first.startswith("--entropy="):
        return True
    return not first.startswith("-") and first not in subcommands


def parse(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def _check_file(path: Path, what: str) -> None:
    check_regular(path, what)


def copy_sample_to_temp() -> Path:
    import tempfile

    from quanted.core.sample import copy_sample, sample_dir

    sample_dir()  # a missing sample is an error before a temporary folder is made
    folder = Path(tempfile.mkdtemp(prefix="quanted-sample-"))
    return copy_sample(folder)


def run(args: argparse.Namespace) -> int:
    note = ""
    if args.file is None:
        path = copy_sample_to_temp()
        display = str(path)
        note = "(a copy of the bundled sample)"
        print(f"quanted: opening a copy of the bundled sample: {path}", flush=True)
    elif args.file.is_dir() or args.file.suffix == ".json":
        from quanted.core.engine.quantize import model_inputs

        path = model_inputs(args.file).model  # refused here when NAME.data or inputmeta is missing
        display = str(path)
    else:
        path = args.file
        display = str(path)
        _check_file(path, "a .quantize file")
        # A killed engine run left the file in doubt: the user chooses before editing it.
        refuse_if_interrupted(path)
    if args.entropy is not None:
        _check_file(args.entropy, "an entropy report")

    from quanted.core.disk.gcpause import gc_paused
    from quanted.tui import early

    if path is args.file:  # a .quantize file given: its first rows read on the other core
        early.start(path, args.entropy)
    # Textual loads only when the editor opens. Its import makes long-lived objects, not
    # garbage: made with the collector off and frozen after (never scanned again), launch to
    # the first row takes a tenth less CPU (measured; merely paused, the passes put off ate
    # the saving).
    with gc_paused():
        from quanted.tui.app import QuantedApp

        gc.freeze()

    app = QuantedApp(path, args.entropy, display_name=display, note=note)
    try:
        error = app.run()
    finally:
        early.discard()
    if error:
        print(f"quanted: error: {error}", file=sys.stderr)
    if args.file is None:
        print(f"quanted: the sample copy stays in {path.parent}")
    return int(app.return_code or 0)
