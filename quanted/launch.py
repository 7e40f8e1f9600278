"""The `quanted` command (and `python -m quanted`): the CLI (cli/dispatch.run), with a ctrl+c
before its own handler is in place turned into its status."""

from __future__ import annotations

import os
import sys


def run() -> None:
    try:
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

