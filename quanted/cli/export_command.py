"""`export`: `pegasus export ovxlib` from the hybrid model, with the problems in its log named."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from quanted.cli.engine_io import kept_log, pegasus_option, print_json, running

DESCRIPTION = """\
Run `pegasus export ovxlib` in FILE's folder: --model NAME_POSTFIX.quantize.json (the model
the hybrid run wrote, with its converter layers; ACUITY's guide warns that NAME.json is wrong
after a hybrid run), --model-data NAME.data, --model-quantize FILE, --with-input-meta
NAME_inputmeta.yml, into DIR (default NAME_POSTFIX_export/ beside FILE).

Refused unless --force, when the hybrid model is stale: none yet while FILE has customized
layers; converter layers of it FILE has no entries for (FILE was rebuilt or replaced); the
customized list (layers and qtypes) is not the one the last recorded hybrid run was made with
(.quanted/history/), or FILE was rebuilt since that run; without a record, a model older than
FILE while some customized layers are not applied. The fix: `quanted hybrid FILE`. Also
refused: a DIR that is not empty.
The log is searched for what the exporter only prints: tensors exported as float32 in a
quantized export (no entry in FILE; the engine exits 0), inputs it could not load, E lines,
a traceback's last line, dtype mismatches such as "DFP INT16, ASYM UINT8", unsupported
qtypes: exit 1 naming the layer.
Exit status: pegasus's own when it failed, 1 for problems in the log, else 0."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export an ovxlib case from FILE (after the hybrid run)",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, metavar="FILE", help="the .quantize file")
    p.add_argument("--output", type=Path, metavar="DIR",
                   help="the folder for the case (default: NAME_POSTFIX_export/ beside FILE)")
    p.add_argument("--dtype", default="quantized", help="pegasus --dtype (default: %(default)s)")
    pegasus_option(p)
    p.add_argument("--force", action="store_true",
                   help="export even when the hybrid model is stale, or into a folder that is "
                   "not empty")
    p.add_argument("--dry-run", action="store_true", help="print the command and run nothing")
    p.add_argument("--json", action="store_true",
                   help="print the result as JSON on stdout (the log goes to stderr)")
    p.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.engine import export
    from quanted.core.engine.command import quoted
    from quanted.core.engine.step import Cancel, Events, StepEnded, result_of

    the_plan = export.plan(QuantizeDocument.open(args.file), args.output, args.dtype,
                           args.pegasus, args.force)
    for warning in the_plan.warnings:
        print(f"quanted: warning: {warning} (--force)", file=sys.stderr)
    if args.dry_run:
        print(quoted(the_plan.command))
        return 0
    on_line = running(the_plan.cwd, the_plan.command)  # --json shapes stdout only
    with kept_log(the_plan.quantize, "export", on_line) as kept:
        try:
            result = export.run(the_plan, Events(line=kept), Cancel())
        except StepEnded as ended:  # what the log named and what was written, all the same
            result = result_of(ended, export.ExportResult)
    for problem in result.problems:
        print(f"quanted: export: {problem.describe()}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
        return result.status
    if result.status == 0:
        print(f"exported {the_plan.model.name} into {result.output}:")
        print("\n".join(f"  {name}" for name in result.files))
    elif not result.files:
        print(f"quanted: error: {args.file}: pegasus wrote nothing into {result.output}",
              file=sys.stderr)
    return result.status
