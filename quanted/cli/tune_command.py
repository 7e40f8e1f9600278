"""`tune`: search for the smallest set of layers to raise so that quantized meets float."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.cli.engine_io import check_options, pegasus_option, print_json, print_tail

if TYPE_CHECKING:
    from quanted.core.tune.cluster import ClusterExecutor
    from quanted.core.tune.figures import Target

# The tune modules (numpy, the engine drivers) are imported in the handler: `quanted add`
# must stay fast.

DESCRIPTION = """\
Find the smallest set of layers whose raise to QTYPE (default dynamic_fixed_point-i16) makes
the quantized model meet the target: the worst cosine between float and quantized outputs,
over N calibration inputs and every output, at least C (and with --target-top1 the same top-1
class as float on every input). --target-cosine NAME=C sets one output's (NAME: its tensor
key, output layer id or 0-based index; repeatable, beside a C for every output). --check CMD
adds your task check (as `quanted verify --check`: CMD FLOAT_DIR QUANT_DIR exits 0 when
acceptable, 1 when not) on every trial; with --check and no --target-cosine only the check
decides. Each trial writes a candidate customized list into a scratch
copy of the model folder (never FILE or its folder), runs the --hybrid quantize and the
quantized inference there, and compares with the float outputs (run once).

Phases: bounds (plain, and all candidates raised: the search stops when plain already meets
the target, or when all raised cannot), bisection over the ranked candidates (by entropy, or
by `drop` from an analysis; with --rank drop and none cached, the tune runs one after the
bounds, 2 engine runs, kept for `quanted analyze`) for the shortest passing prefix, then
pruning to a 1-minimal set: dropping any one of its layers misses the target. About
2 + log2(N) + P trials for N candidates and a passing prefix of P. Every trial is recorded in
.quanted/tune/ and reused by a later run on the same inputs (after ctrl+c, say). The file's
own customized list is measured too.

When the target is met, the set becomes FILE's customized list (each added line commented
`# tune: drop=..., entropy=...`; the old file is kept in .quanted/history/), then the hybrid
quantize runs in FILE's folder and `verify` measures the result.

Progress goes to stderr, the report to stdout. --json prints:
  {"target": {"cosine": C|null, "top1": BOOL, "outputs": {NAME: C}, "check": CMD|null},
   "met": BOOL, "layers": {ID: QTYPE},
   "trials": [{"layers": [ID], "min_cosine": F, "top1_all": BOOL, "applied": BOOL,
               "seconds": F, "phase": "bounds|bisect|prune", "cached": BOOL,
               "worker": null|ADDRESS (the dask worker that ran it, with --scheduler),
               "outputs": {T: worst cosine}, "check": null|{"acceptable", "metric"}}],
   "points": [{"count": K, "min_cosine": F, "acceptable": null|bool, "metric": null|F}]}
   (a point: the trial with the best worst cosine at K layers raised, and the check's verdict
   and metric on that trial)

Exit status: 0 the target is met, 1 it cannot be (or the budget ran out first), 130
cancelled, the engine's status when an engine run fails.

--scheduler tcp://HOST:8786 runs the trials on a dask.distributed cluster (the [dask] extra):
the workers must see FILE's folder at the same absolute path (a shared filesystem) and find
their own engine (QUANTED_PEGASUS, the default built one) unless --pegasus names one; the
journal, the float run's outputs and the final run stay on this machine."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune",
        help="find the fewest layers to raise so quantized meets float (automatic hybrid)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    p.add_argument("--target-cosine", action="append", default=[], metavar="C|NAME=C",
                   help="the worst cosine to reach, of every output (default: 0.99, none "
                   "with --check) or of the output NAME; repeatable")
    check_options(p, " on every trial")
    p.add_argument("--target-top1", action="store_true",
                   help="also require float's top-1 class on every input")
    p.add_argument("--iterations", type=int, metavar="N",
                   help="inputs to measure (default: all in the calibration dataset listing)")
    p.add_argument("--qtype", default="dynamic_fixed_point-i16", metavar="Q",
                   help="the qtype layers are raised to (default: %(default)s)")
    p.add_argument("--rank", choices=["entropy", "drop"],
                   help="candidate order (default: drop when an analysis is cached, else "
                   "entropy; drop with none cached runs one: 2 engine runs)")
    p.add_argument("--max-trials", type=int, metavar="K",
                   help="run at most K engine trials (recorded ones are free)")
    p.add_argument("--jobs", type=int, metavar="J",
                   help="trials run in parallel, each in its own scratch folder (default: "
                   "as many as cores and free memory allow)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the trials on the dask.distributed cluster of this scheduler "
                   "(e.g. tcp://host:8786; --jobs defaults to its workers' threads)")
    pegasus_option(p)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan and the candidates; run and write nothing")
    p.set_defaults(handler=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    target = _target(args)
    executor = None
    if args.scheduler is not None and not args.dry_run:
        from quanted.core.tune.cluster import ClusterExecutor

        executor = ClusterExecutor(args.scheduler, own_engine=args.pegasus is None)
    try:
        return _tune(args, target, executor)
    finally:
        if executor is not None:
            executor.close()


def _tune(args: argparse.Namespace, target: Target, executor: ClusterExecutor | None) -> int:
    from quanted.cli.tune_report import (TuneProgressPrinter, dry_run_lines, report_json,
                                         report_lines)
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.engine import capacity
    from quanted.core.engine.step import Cancel, Events, StepFailed
    from quanted.core.tune import session
    from quanted.core.tune.apply import apply

    if args.jobs is not None:
        jobs = args.jobs
    elif executor is not None:
        jobs = executor.threads()
    else:
        jobs = capacity.jobs_for(args.file, args.pegasus)
    # The set found is applied, run and verified: planned and timed too.
    options = session.Options(target, args.iterations, args.qtype, args.rank, args.max_trials,
                              jobs, args.pegasus, then_apply=True)
    the_plan = session.plan(QuantizeDocument.open(args.file), options)
    if args.dry_run:
        if the_plan.setup is None:
            print(f"{the_plan.why}; the tune would first rebuild the plain table "
                  "(one pegasus quantize --rebuild run in a scratch folder)")
            return 0
        print("\n".join(dry_run_lines(the_plan.setup)))
        return 0
    progress = TuneProgressPrinter(the_plan, sys.stderr)
    cancel = Cancel()
    try:
        outcome = session.run(the_plan, Events(progress=progress.on_event), cancel,
                              executor=executor)
        setup = the_plan.setup
        assert setup is not None  # run made it
        applied = None
        if outcome.met:
            applied = apply(setup, outcome, progress.on_event, cancel=cancel)
    except StepFailed as exc:
        print("quanted: the engine's last log lines:", file=sys.stderr)
        print_tail(exc.tail)
        raise
    if args.json:
        print_json(report_json(setup, outcome, applied))
    else:
        print("\n".join(report_lines(setup, outcome, applied)))
    if applied is not None:
        return applied.status
    return 0 if outcome.met else 1


def _target(args: argparse.Namespace) -> Target:
    import math

    from quanted.core.engine.command import CommandError
    from quanted.core.engine.taskcheck import TaskCheck
    from quanted.core.tune.figures import Target

    check = TaskCheck.parse(args.check, args.check_timeout) if args.check is not None else None
    try:
        target = Target.of(args.target_cosine, args.target_top1, check)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    for value in target.cosines():
        if not (math.isfinite(value) and -1.0 <= value <= 1.0):
            raise CommandError(f"--target-cosine must be between -1 and 1, not {value}")
    return target
