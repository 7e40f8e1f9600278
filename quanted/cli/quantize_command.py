"""`quantize`: the first quantization of a model folder (default or KL divergence), and
`--compare` of the two."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.cli.engine_io import engine_log, kept_log, pegasus_option, print_json, running
from quanted.core.errors import QuantedError

if TYPE_CHECKING:  # the engine modules load in the handler: `quanted add` must stay fast
    from quanted.core.engine.compare import QuantizeComparison, Side
    from quanted.core.engine.quantize import QuantizeOptions, QuantizePlan, QuantizeResult

DESCRIPTION = """\
Run `pegasus quantize --rebuild --compute-entropy` in MODEL.json's folder: the first step of
ACUITY's hybrid workflow. It writes NAME_POSTFIX.quantize and entropy.txt there.

Zero configuration: NAME.data and NAME_inputmeta.yml beside MODEL.json, --iterations = one
pass over the calibration dataset the inputmeta lists. --kld adds the options ACUITY's
precision guide gives for KL divergence (--algorithm kl_divergence --batch-size 100
--divergence-first-quantize-bits 12), --mle adds --MLE (slower).

An existing NAME_POSTFIX.quantize is copied to .quanted/history/ first, and its customized
entries that name layers of the new file are carried over with their comments (the layers
that no longer exist are listed); --fresh keeps the engine's file as it is. A failed or
cancelled run puts the old file back.

--compare quantizes both ways in scratch folders, verifies each against float, prints the
figures side by side and writes the one you pick (--pick; on a terminal it asks; otherwise
the higher mean cosine)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quantize", help="first quantization of a model (--rebuild), KLD too",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, metavar="MODEL.json",
                   help="the imported model (or its folder)")
    p.add_argument("--postfix", help="NAME_POSTFIX.quantize (default: the qtype, e.g. uint8)")
    p.add_argument("--quantizer", default="asymmetric_affine",
                   help="pegasus --quantizer (default: %(default)s)")
    p.add_argument("--qtype", default="uint8", help="pegasus --qtype (default: %(default)s)")
    p.add_argument("--iterations", type=int, metavar="N",
                   help="pegasus --iterations (default: one pass over the dataset listing)")
    p.add_argument("--kld", action="store_true",
                   help="KL divergence: --algorithm kl_divergence --batch-size B "
                   "--divergence-first-quantize-bits BITS")
    p.add_argument("--mle", action="store_true", help="add --MLE (minimize per-layer error)")
    p.add_argument("--batch-size", type=int, metavar="B",
                   help="pegasus --batch-size (default with --kld: 100, as the guide says)")
    p.add_argument("--bits", type=int, metavar="BITS",
                   help="--divergence-first-quantize-bits with --kld (default: 12)")
    pegasus_option(p)
    p.add_argument("--fresh", action="store_true",
                   help="do not carry the old file's customized entries over")
    p.add_argument("--compare", action="store_true",
                   help="quantize default and KLD in scratch folders, verify both, then write one")
    p.add_argument("--pick", choices=("default", "kld", "best", "none"),
                   help="with --compare: which one to write (default: ask on a terminal, "
                   "else best)")
    p.add_argument("--verify-iterations", type=int, metavar="N",
                   help="with --compare: inputs each verify runs (default: the dataset's size)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the command (one shell-quoted line) and run nothing")
    p.add_argument("--json", action="store_true",
                   help="print the result as JSON on stdout (the log goes to stderr)")
    p.set_defaults(handler=cmd_quantize)


def options_from(args: argparse.Namespace) -> QuantizeOptions:
    from quanted.core.engine.quantize import QuantizeOptions

    return QuantizeOptions(postfix=args.postfix, quantizer=args.quantizer, qtype=args.qtype,
                           iterations=args.iterations, kld=args.kld, mle=args.mle,
                           batch_size=args.batch_size, bits=args.bits)


def cmd_quantize(args: argparse.Namespace) -> int:
    from quanted.core.engine import quantize
    from quanted.core.engine.command import quoted
    from quanted.core.engine.step import Cancel, Events, StepEnded, result_of

    the_plan = quantize.plan(args.model, options_from(args), args.pegasus)
    if args.compare:
        return _compare(args, the_plan)
    if args.dry_run:
        print(quoted(the_plan.command))
        return 0
    on_line = running(the_plan.cwd, the_plan.command)  # --json shapes stdout only
    with kept_log(the_plan.quantize, "quantize", on_line) as kept:
        try:
            result = quantize.run(the_plan, Events(line=kept), Cancel(), fresh=args.fresh)
        except StepEnded as ended:  # the old file is back: the result says how
            result = result_of(ended, quantize.QuantizeResult)
    return _report(args, result)


def _report(args: argparse.Namespace, result: QuantizeResult) -> int:
    for failure in result.failures:
        print(f"quanted: engine: {failure.describe()}", file=sys.stderr)
    for hint in result.hints:
        print(f"quanted: hint: {hint}", file=sys.stderr)
    if result.restored:
        print(f"quanted: {result.restored}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
        return int(result.status)
    if result.restored is None:
        print(f"wrote {result.quantize} and entropy.txt: {len(result.customized)} customized "
              f"layer(s) (attempt {result.attempt})")
        if result.backup:
            print(f"the old file is in {result.backup}")
        if result.carry is not None:
            print("\n".join(result.carry.lines()))
    return int(result.status)


def _compare(args: argparse.Namespace, the_plan: QuantizePlan) -> int:
    from dataclasses import replace

    from quanted.core.engine import compare as cmp
    from quanted.core.engine import quantize
    from quanted.core.engine.command import dataset_size, quoted

    if args.dry_run:
        print(quoted(quantize.plan(args.model, cmp.default_options(the_plan.options),
                                   args.pegasus).command))
        print(quoted(quantize.plan(args.model, cmp.kld_options(the_plan.options),
                                   args.pegasus).command))
        return 0
    iterations = args.verify_iterations or dataset_size(the_plan.files.inputmeta) or 1
    log, on_line = engine_log(quiet=False)  # --json shapes stdout only

    def on_step(text: str) -> None:
        print(f"quanted: {text}", file=log, flush=True)

    with kept_log(the_plan.quantize, "compare", on_line) as kept:
        result = cmp.compare(the_plan, args.pegasus, iterations, kept, on_step)
    try:
        lines = cmp.figures_lines(result)
        out = sys.stderr if args.json else sys.stdout
        print("\n".join(lines), file=out)
        choice = _choose(args, result)
        if choice is None:
            print("wrote nothing", file=out)
            if args.json:
                print_json({"compare": result.to_json(), "picked": None})
            return 0 if not all(s.error for s in result.sides) else 1
        target = replace(the_plan, options=choice.plan.options, command=quantize.plan(
            args.model, choice.plan.options, args.pegasus).command)
        written = quantize.adopt(target, choice.made, fresh=args.fresh)
    finally:
        cmp.clean_up(result)
    if args.json:
        print_json({"compare": result.to_json(), "picked": choice.name,
                    "result": written.to_json()})
        return int(written.status)
    print(f"picked {choice.name}")
    return _report(args, written)


def _choose(args: argparse.Namespace, result: QuantizeComparison) -> Side | None:
    from quanted.core.engine import compare as cmp

    usable = {s.name: s for s in result.sides if s.error is None}
    best = cmp.best_side(result)
    pick = args.pick
    if pick is None and sys.stdin.isatty() and not args.json:
        default = best.name if best else "none"
        answer = input(f"write which? [{'/'.join([*usable, 'none'])}] ({default}) ").strip()
        pick = answer or default
    pick = pick or "best"
    if pick == "none":
        return None
    if pick == "best":
        if best is None:
            raise QuantedError("neither quantization could be verified; nothing written",
                               args.model)
        return best
    if pick not in usable:
        raise QuantedError(f"the {pick} quantization failed; nothing written", args.model)
    return usable[pick]
