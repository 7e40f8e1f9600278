"""`history`: every attempt at a file's customized list; `restore`: give one back;
`report`: the list and its figures, to hand over."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quanted.core.state.timeline import Attempt

HISTORY_EPILOG = """\
--json prints a list, oldest first, of
  {"id", "kind": "quantize|hybrid|verify|tune", "time": ISO 8601, "customized": {LAYER: QTYPE},
   "figures": null | verify's summary {"mean_cosine", "min_cosine", "max_abs_error",
   "top1_agree", "count", "top1_agreement", "mean_top5_overlap"}, "best": true|false,
   and per kind "algorithm", "mle", "missing" (quantize), "failures" (hybrid),
   "iterations" (verify, tune)}.
--diff A B (ids, or `current` for the file as it is) prints the layers added (+), removed (-)
and retyped (~) from A to B and the figures of each; with --json
  {"a": ATTEMPT, "b": ATTEMPT, "added": {...}, "removed": {...}, "retyped": {L: {"a", "b"}}}."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="list the attempts at FILE's customized list",
                       description="Every attempt at FILE's customized list (rebuilds, hybrid "
                       "runs, verifies, tune trials) with its id, time, list and the figures "
                       "verify measured; the best verified one is starred.",
                       epilog=HISTORY_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    p.add_argument("--diff", nargs=2, metavar=("A", "B"), help="compare two attempts")
    p.add_argument("--layers", action="store_true", help="print each attempt's list under it")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_history)

    r = sub.add_parser("restore", help="make FILE's customized list an earlier attempt's",
                       description="Make FILE's customized_quantize_layers exactly what attempt "
                       "ID had (see `quanted history FILE`), comments included, ready for the "
                       "next hybrid run. Only that block changes. Refused when the attempt "
                       "names layers FILE no longer has.")
    r.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    r.add_argument("id", metavar="ID", help="the attempt's id")
    r.add_argument("--dry-run", action="store_true", help="show the change, write nothing")
    r.set_defaults(handler=cmd_restore)

    rep = sub.add_parser("report", help="the customized list with entropy, analysis and verify "
                         "figures",
                         description="The final customized list of FILE with each layer's "
                         "entropy, comment and figures from the cached per-layer analysis "
                         "(cosine, drop, sqnr; `quanted analyze FILE` makes it; marked stale "
                         "with its age when FILE or its model changed since), and the figures "
                         "of the last verify: something to paste in a merge request or a "
                         "ticket. --format html makes one self-contained page with plots of "
                         "every layer along the graph, the outputs per input, tune's trials and "
                         "the attempts, each marked current or stale.")
    rep.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    rep.add_argument("-e", "--entropy", type=Path, metavar="ENTROPY",
                     help="the entropy report (default: entropy.txt beside FILE)")
    rep.add_argument("--format", choices=("md", "json", "csv", "html"), default="md",
                     help="markdown (default), JSON, CSV of the layers only, or a "
                     "self-contained HTML page with plots (needs: pip install 'quanted[html]')")
    rep.add_argument("-o", "--output", type=Path, metavar="OUT",
                     help="write the report to OUT instead of stdout")
    rep.set_defaults(handler=cmd_report)


def cmd_history(args: argparse.Namespace) -> int:
    from quanted.core.state import timeline
    from quanted.core.document.model import QuantizeDocument

    doc = QuantizeDocument.open(args.file)  # an unreadable FILE is exit 2, as everywhere
    if args.diff:
        a, b = (timeline.find(args.file, i, doc) for i in args.diff)
        changes = timeline.diff(a, b)
        if args.json:
            _dump(changes.to_json())
        else:
            print("\n".join(changes.lines()))
        return 0
    items = timeline.attempts(args.file)
    top = timeline.best_of(args.file, items)
    if args.json:
        _dump([a.to_json(a is top) for a in items])
        return 0
    if not items:
        print(f"no attempts recorded for {args.file} yet (quanted quantize, hybrid and verify "
              "record them)")
        return 0
    print(f"  {'id':>4}  {'time':19}  {'kind':8}  {'layers':>6}  figures")
    for attempt in items:
        star = "*" if attempt is top else " "
        extra = _extra(attempt)
        print(f"{star} {attempt.id:>4}  {attempt.when:19}  {attempt.kind:8}  "
              f"{len(attempt.customized):6d}  {timeline.figures_text(attempt)}{extra}")
        if args.layers:
            print("".join(f"{'':8}{layer}: {qtype}\n" for layer, qtype in
                          attempt.customized.items()), end="")
    return 0


def _extra(attempt: Attempt) -> str:
    d = attempt.details
    if attempt.kind == "quantize":
        return f"  ({d.get('algorithm', 'normal')}{' + MLE' if d.get('mle') else ''})"
    if attempt.kind == "hybrid" and d.get("failures"):
        return f"  ({d['failures']} layer failure(s))"
    if "iterations" in d:
        return f"  (iterations {d['iterations']})"
    return ""


def cmd_restore(args: argparse.Namespace) -> int:
    from quanted.core.state import timeline
    from quanted.core.document.model import QuantizeDocument

    doc = QuantizeDocument.open(args.file)
    attempt = timeline.find(args.file, args.id, doc)
    changes = timeline.diff(timeline.current(doc), attempt)
    timeline.restore(doc, attempt)
    if not doc.is_modified:
        print(f"{args.file} already has attempt {attempt.id}'s list")
        return 0
    print("\n".join(changes.lines()[1:-2]) or "  comments only")
    if args.dry_run:
        return 0
    doc.save()
    note = "" if attempt.block is not None else " (its comments were not recorded)"
    print(f"restored attempt {attempt.id}'s customized list into {args.file}{note}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from quanted.core.report import handover

    if args.format == "html":
        from quanted.core.report.html import page, sources

        text = page.render(sources.gather(args.file, args.entropy))
    else:
        report = handover.build(args.file, args.entropy)
        if args.format == "json":
            text = json.dumps(report.to_json(), indent=1) + "\n"
        elif args.format == "csv":
            text = report.csv()
        else:
            text = report.markdown()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def _dump(value: object) -> None:
    json.dump(value, sys.stdout, indent=1)
    sys.stdout.write("\n")
