"""The `quanted` command (and `python -m quanted`): for a command that reads a .quantize file
first thing, that read starts in a thread (core/disk/prefetch.py) before the command's modules
are imported, then the CLI runs as usual (cli/dispatch.run)."""

from __future__ import annotations

import os
import sys

# Commands whose first positional argument is the .quantize file they read at once.
_READS_FIRST = ("add", "remove", "check", "layers")


def run() -> None:
    try:
        read_early(sys.argv[1:])
        from quanted.cli.dispatch import run as run_cli

        run_cli()
    except KeyboardInterrupt:
        # ctrl+c before the command's own handler is in place (its imports, the parser):
        # the stopped command's status and line, never a traceback.
        try:
            sys.stderr.write("quanted: interrupted\n")
            sys.stderr.flush()
        finally:
            os._exit(130)


def read_early(argv: list[str]) -> None:
    """Start the early read of the file the command `argv` reads first, if it reads one."""
    if len(argv) >= 2 and argv[0] in _READS_FIRST and not argv[1].startswith("-"):
        from quanted.core.disk import prefetch

        prefetch.start(argv[1])
