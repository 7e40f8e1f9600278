"""Argument parsing, dispatch, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from quanted import __version__
from quanted.cli import (
    analyze_command,
    edit_commands,
    engine_commands,
    open_command,
    verify_command,
)
from quanted.core.errors import QuantedError

PROG = "quanted"
EPILOG = """\
exit status: 0 ok, 1 a validation problem (nothing written), 2 unreadable input.
Without a subcommand, `quanted FILE` opens the editor."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Edit ACUITY .quantize files: hybrid-quantization layers, guided by entropy.txt.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    edit_commands.register(sub)
    engine_commands.register(sub)
    verify_command.register(sub)
    analyze_command.register(sub)
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if open_command.wants_editor(args_list, _subcommands(parser)):
        # No subcommand: `quanted [FILE] [-e ENTROPY]` opens the editor.
        args = open_command.parse(args_list)
    else:
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 0
    try:
        return int(args.handler(args) or 0)
    except QuantedError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `quanted layers big.quantize | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no tracebacks
        if os.environ.get("QUANTED_DEBUG"):
            raise
        print(f"{PROG}: error: internal error: {type(exc).__name__}: {exc} "
              "(set QUANTED_DEBUG=1 for a traceback)", file=sys.stderr)
        return 3
