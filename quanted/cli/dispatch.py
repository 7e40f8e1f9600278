"""Argument parsing, dispatch, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from quanted import __version__
from quanted.cli import open_command
from quanted.core.errors import EngineNotFound, HistoryWarning, QuantedError

PROG = "quanted"
EPILOG = """\
exit status: 0 ok, 1 a validation problem or a refused edit (nothing written), 2 unreadable
input; engine commands: the engine's status when it fails, 130 (128+N for signal N) stopped.
Without a subcommand, `quanted FILE` opens the editor."""


# Every subcommand and the module that registers it, in the parser's order (a test holds the
# two together): `quanted FILE` opens the editor without importing every command's module, a
# tenth of its launch, and `quanted add ...` imports and registers only edit_commands'.
OWNERS = {"layers": "edit_commands", "add": "edit_commands", "remove": "edit_commands",
          "recover": "edit_commands", "check": "edit_commands", "hybrid": "engine_commands",
          "verify": "verify_command", "tune": "tune_command", "analyze": "analyze_command",
          "quantize": "quantize_command", "history": "history_commands",
          "restore": "history_commands", "report": "history_commands",
          "export": "export_command", "serve": "serve_command"}
COMMANDS = tuple(OWNERS)


def _columns() -> int:
    """shutil.get_terminal_size().columns without importing shutil, which argparse does for
    each formatter (bz2, lzma and zlib with it: milliseconds of every `add`)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Width(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _RawWidth(_Width, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    """The subcommands' parsers too (add_subparsers makes them of this class)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Width)
        super().__init__(**kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or (`command`) only those of the module registering it."""
    parser = _Parser(
        prog=PROG,
        description="Edit ACUITY .quantize files: hybrid-quantization layers, guided by "
        "entropy.txt.",
        epilog=EPILOG,
        formatter_class=_RawWidth,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = dict.fromkeys(OWNERS.values()) if command is None else [OWNERS[command]]
    for module in modules:
        importlib.import_module(f"quanted.cli.{module}").register(sub)
    return parser


def unknown_command(argv: Sequence[str], commands: Sequence[str]) -> str | None:
    """The message for `quanted frobnicate x`: a first word that is no command and cannot be
    a .quantize file (not on disk, no `/` or `.` in it), rather than the editor's usage."""
    if not argv or argv[0].startswith("-") or argv[0] in commands:
        return None
    word = argv[0]
    if os.path.exists(word) or "/" in word or os.sep in word or "." in word:
        return None
    import difflib  # only for this message

    close = difflib.get_close_matches(word, commands, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (f"unknown command {word!r}{hint} (commands: {', '.join(commands)}; "
            f"`{PROG} FILE` opens the editor, `{PROG} --help` says more)")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _safe_streams() -> None:
    """Names from argv that are not UTF-8 are written back as they came, never a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="surrogateescape")
            except (ValueError, OSError):
                pass


def run() -> NoReturn:
    """The `quanted` command."""
    sys.exit(main())


def main(argv: Sequence[str] | None = None) -> int:
    _safe_streams()
    warnings.simplefilter("always", HistoryWarning)
    previous_hook = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return _main(argv)
    finally:
        warnings.showwarning = previous_hook


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    unknown = unknown_command(args_list, COMMANDS)
    if unknown is not None:
        print(f"{PROG}: error: {unknown}", file=sys.stderr)
        return 2
    if open_command.wants_editor(args_list, COMMANDS):
        # No subcommand: `quanted [FILE] [-e ENTROPY]` opens the editor.
        args = open_command.parse(args_list)
    else:
        parser = build_parser(args_list[0] if args_list and args_list[0] in OWNERS else None)
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 0
    try:
        return int(args.handler(args) or 0)
    except EngineNotFound as exc:
        where = exc if exc.path is not None else exc.message  # no "<input>:" before it
        print(f"{PROG}: error: {where} (or pass --pegasus CMD)", file=sys.stderr)
        return exc.exit_code
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
    except Exception as exc:
        if os.environ.get("QUANTED_DEBUG"):
            raise
        # Exit statuses are 0, 1 and 2 only: an unforeseen failure is reported as a failure to
        # read or write the input, with the one line users can act on.
        print(f"{PROG}: error: internal error: {type(exc).__name__}: {exc} "
              "(set QUANTED_DEBUG=1 for a traceback)", file=sys.stderr)
        return 2
