"""`verify`: float vs quantized (vs the plain quantized file from before the first hybrid run)
through `pegasus inference`, and `verify --history`: every earlier verify of the file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from quanted.cli.engine_io import check_options, engine_log, pegasus_option, print_failed, \
    print_json, \
    quiet_option

# The engine modules (numpy) are imported in the handler: `quanted add` must stay fast.

DESCRIPTION = """\
Run `pegasus inference --postprocess dump_results` in FILE's folder for
  [1] the float model: NAME.json --dtype float32,
  [2] FILE: NAME_POSTFIX.quantize.json (when a hybrid run made it, else NAME.json)
      --model-quantize FILE --dtype quantized,
  [3] when .quanted/history/ holds the file from before the first hybrid run, that plain
      quantized file with NAME.json,
and compare each quantized output with float, per output tensor and iteration: cosine
similarity, max absolute error, top-1 agreement, top-5 overlap (|top5 & top5| / 5); and per
output over every input: worst and mean cosine, SQNR, max absolute error and a resolution
check (distinct values quantized/float, quantization steps across the middle half of the
float values; COLLAPSED when a few codes are left, see README "Detection models").
Top-1 and top-5 are for class-score outputs only: an output fed by a softmax, one vector per
input (from the model .json); boxes, maps and logits are `values`. --output NAME=class|values
(NAME: the tensor key, the output layer id, or the 0-based output index) overrides it. The
result is recorded in .quanted/history/ with the customized layers it was made with;
`--history` lists those attempts and marks the best (highest mean cosine among
the attempts made with the newest one's --iterations).

The engine's log goes to stderr (--quiet hides it) and, whole, to .quanted/logs/; stdout
carries only the result. --json prints:
  {"file", "time", "iterations", "customized": {LAYER: QTYPE}, "tensors": [T],
   "cosine": {T: [per iteration]}, "max_abs_error": {T: [...]},
   "top1_agreement": {T: [true|false ...]}, "top5_overlap": {T: [0..1 ...]},
   "top5": {"float": {T: [[[class, prob] x5] per iteration]}, "quantized": {...},
            "plain_quantized": {...} (when run [3] was made)},
   "plain_quantized": null | {"source", "cosine", "max_abs_error", "top1_agreement",
                              "top5_overlap"} (run [3] against float, same shapes),
   "summary": {"quantized": {"mean_cosine", "min_cosine", "max_abs_error", "top1_agree",
               "count", "top1_count", "top1_agreement", "mean_top5_overlap"},
               "plain_quantized": {...}|null}  (top-1 and top-5 over class outputs only),
   "outputs": {T: {"kind": "class"|"values", "shape": [dims],
                   "quantized": {"min_cosine", "mean_cosine", "sqnr_db", "max_abs_error",
                                 "count", "top1_agree", "mean_top5_overlap",
                                 "resolution": {"distinct_float", "distinct_quantized",
                                                "step", "spread", "levels", "collapsed",
                                                "why"}},
                   "plain_quantized": {...}|null}},
   "runs": [{"label", "command", "seconds"}], "notes": [...]}
T is the output's tensor key as pegasus names it, e.g. @attach_output/out0_0:out0.
With --history --json: a list of {"time", "customized", "iterations", "mean_cosine",
"top1_agreement", "summary", "plain_summary", "best"}.

--check CMD runs your own task check on each quantized run against float, as Polygraphy's
--check does: CMD (split like a shell would, never run through one) gets two more
arguments, FLOAT_DIR and QUANT_DIR, each holding <i>/<OUTPUT>.npy (i: the 0-based input in
dataset order; OUTPUT: the output layer id with / as _; float32, in the model's output
shape) and outputs.json (the outputs' names, layers, shapes and kinds, the dataset lines).
It exits 0 when the quantized outputs are acceptable, 1 when not; an optional last stdout
line `metric=<float>` is shown and recorded. Any other exit (another status, a signal,
--check-timeout) is a broken check: an error (exit 2), never "not acceptable". With --json:
"check": {"command", "quantized": {"acceptable", "metric", "seconds"},
"plain_quantized": {...}|null}. See examples/check_scores.py.

Exit status: 0, or 1 when the check finds the quantized run not acceptable.
A failing inference exits with its status, after its command and last log lines."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="compare float and quantized inference results (cosine, top-5)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    pegasus_option(p)
    p.add_argument("--iterations", type=int, metavar="N",
                   help="inputs to run from the dataset (default: all the inputs the "
                   "calibration dataset lists, 1 when it cannot be read)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    quiet_option(p)
    p.add_argument("--history", action="store_true",
                   help="list the earlier verify results of FILE instead of running anything")
    p.add_argument("--dry-run", action="store_true", help="print the commands and run nothing")
    p.add_argument("--output", action="append", default=[], metavar="NAME=KIND",
                   help="the kind of an output: class (top-1/top-5 apply) or values (boxes, "
                   "maps, logits); NAME is its tensor key, layer id or 0-based index")
    check_options(p, "")
    p.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    if args.history:
        return _history(args)
    from quanted.cli.interrupted import warn_if_interrupted
    from quanted.cli.verify_table import table_lines
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.engine import verify
    from quanted.core.engine.command import dataset_iterations, quoted
    from quanted.core.engine.noise import KeptLog
    from quanted.core.engine.step import Cancel, Events, StepFailed

    from quanted.core.engine.command import CommandError
    from quanted.core.engine.output_figures import parse_overrides
    from quanted.core.engine.taskcheck import CheckBroken, TaskCheck

    warn_if_interrupted(args.file)  # results over a file a killed run may have left half done
    try:
        kinds = parse_overrides(args.output)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    iterations = args.iterations
    if iterations is None:
        iterations = dataset_iterations(args.file.absolute())
    check = TaskCheck.parse(args.check, args.check_timeout) if args.check is not None else None
    plan = verify.plan(QuantizeDocument.open(args.file), args.pegasus, iterations, kinds=kinds,
                       check=check)
    if args.dry_run:
        print(f"# in {plan.cwd}")
        if plan.plain_source is not None:
            print(f"# copy {plan.plain_source} to {plan.plain_copy}")
        for run in plan.runs:
            print(quoted(run.command))
        if check is not None:
            print(f"# then, per quantized run: {check.describe()} FLOAT_DIR QUANT_DIR")
        return 0
    log, on_line = engine_log(args.quiet)
    for note in plan.notes:
        print(f"quanted: note: {note}", file=sys.stderr)

    def on_progress(p: verify.VerifyProgress) -> None:
        if not args.quiet:
            print(f"quanted: [{p.index}/{p.total}] {p.run.title}: {quoted(p.run.command)}",
                  file=log, flush=True)

    kept = KeptLog(plan.quantize, "verify", on_line)
    try:
        result = verify.run(plan, Events(line=kept, progress=on_progress), Cancel())
    except StepFailed as failed:
        kept.close()
        print(f"quanted: {kept.describe()}", file=sys.stderr)
        return print_failed(failed, args.file)
    except CheckBroken as exc:
        print("quanted: the check's last output lines:", file=sys.stderr)
        for line in exc.tail:
            print("  " + line, file=sys.stderr)
        raise
    finally:
        kept.close()
    if not args.quiet:
        print(f"quanted: {kept.describe()}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
    else:
        print("\n".join(table_lines(result)))
        print(f"quantized: {result.configuration}")
        if plan.plain_base is not None:
            print(f"plain quantized: the {plan.plain_base.describe()}")
    verdict = result.checks.get(verify.QUANTIZED)
    return 1 if verdict is not None and not verdict.acceptable else 0


def _history(args: argparse.Namespace) -> int:
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.engine.attempts import best, verify_history

    QuantizeDocument.open(args.file)  # an unreadable FILE is exit 2, as everywhere
    attempts = verify_history(args.file)
    top = best(attempts)
    if args.json:
        print_json([a.to_json(a is top) for a in attempts])
        return 0
    if not attempts:
        print(f"no verify results for {args.file} yet (run `quanted verify {args.file}`)")
        return 0
    for attempt in attempts:
        print(attempt.line(attempt is top))
    return 0
