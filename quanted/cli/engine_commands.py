"""`hybrid`: rerun pegasus with --hybrid, safely."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path

from quanted.cli.engine_io import pegasus_option, print_json, quiet_option, running
from quanted.core.errors import QuantedError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hybrid",
        help="rerun pegasus quantize with --hybrid on FILE",
        description="Rerun `pegasus quantize` with --hybrid in FILE's folder: the arguments come "
        "from the files beside FILE (NAME.json, NAME.data, NAME_inputmeta.yml) and FILE's own "
        "quantizer and qtype, or from --from-command. The file is checked first, copied to "
        ".quanted/history/, restored if the run fails, and your comments are put back after.",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    pegasus_option(p)
    p.add_argument("--from-command", metavar="TEXT",
                   help="the `pegasus quantize ... --rebuild ...` line pegasus_quantize.sh "
                   "printed; "
                   "--rebuild becomes --hybrid, every other flag is kept")
    p.add_argument("--iterations", type=int, metavar="N",
                   help="pegasus --iterations for the zero-config command (default: the number of "
                   "inputs in the calibration dataset.txt, as the --rebuild run most likely used)")
    p.add_argument("--dry-run", action="store_true", help="print the command and run nothing")
    p.add_argument("--force", action="store_true",
                   help="run even when check finds errors (unknown layers or qtypes)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    quiet_option(p)
    p.set_defaults(handler=cmd_hybrid)


def cmd_hybrid(args: argparse.Namespace) -> int:
    # Imported here: `quanted add` on a 15 MB file has a 0.3 s budget for the whole process.
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.engine import hybrid
    from quanted.core.engine.command import quoted
    from quanted.core.engine.step import Cancel, Events, StepEnded, result_of

    if args.iterations is not None and args.iterations < 1:
        raise QuantedError("--iterations must be at least 1", args.file)
    plan = hybrid.plan(QuantizeDocument.open(args.file), pegasus=args.pegasus,
                       from_command=args.from_command, iterations=args.iterations)
    label = str(args.file)
    for problem in plan.problems:
        print(problem.format(label), file=sys.stderr)
    if args.dry_run:
        print(f"# in {plan.cwd}")
        print(quoted(plan.command))
        return 1 if plan.errors and not args.force else 0
    from quanted.core.engine.noise import KeptLog

    on_line = running(plan.cwd, plan.command, args.quiet)
    with closing(KeptLog(plan.quantize, "hybrid", on_line)) as kept:
        try:
            result = hybrid.run(plan, Events(line=kept), Cancel(), force=args.force)
        except StepEnded as ended:  # the file is restored: the result says how
            result = result_of(ended, hybrid.HybridResult)
    if not args.quiet or result.status != 0:
        print(f"quanted: {kept.describe()}", file=sys.stderr)
    for failure in result.failures:
        print(f"quanted: engine: {failure.describe()}", file=sys.stderr)
    if result.restored:
        print(f"quanted: {result.restored}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
    elif result.report is not None:
        print("\n".join(result.report.lines()))
        print("\n".join(result.configuration_lines()))
        if result.comments_carried:
            print(f"put back {result.comments_carried} comment(s) pegasus dropped")
    return result.status
