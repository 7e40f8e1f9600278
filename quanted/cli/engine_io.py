"""What the engine commands share: their --pegasus and --quiet options, where the engine's log
goes (stderr: stdout carries only results, so `quanted verify F > result.txt` holds the table),
the last lines of a failed run, and a result as JSON on stdout.

Every engine command drives its step the same way (the contract: core/engine/step.py):
plan from the open document, print the plan on --dry-run, else run it with Events (the log
writer, a progress printer) and a Cancel (ctrl+c and SIGTERM cancel through the engine's
process), then print the result; a StepFailed's run and last lines are said by
`print_failed`, a step's result carried by StepFailed/StepCancelled is printed like a
finished one (`step.result_of`), anything else goes to dispatch as an error line and status."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from quanted.core.engine.step import StepFailed


def pegasus_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pegasus", metavar="CMD",
                   help="the pegasus command prefix (default: $QUANTED_PEGASUS, else pegasus or "
                   "pegasus.py on PATH or in $ACUITY_PATH)")


def check_options(p: argparse.ArgumentParser, what: str) -> None:
    """--check CMD and --check-timeout S: the user's task check (core/engine/taskcheck.py)."""
    p.add_argument("--check", metavar="CMD",
                   help=f"your task check{what}: CMD FLOAT_DIR QUANT_DIR exits 0 acceptable, "
                   "1 not (see `quanted verify --help`)")
    p.add_argument("--check-timeout", type=float, default=600.0, metavar="S",
                   help="a check running longer is broken (default: %(default)s s)")


def quiet_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true",
                   help="do not show the engine's log (it is still kept in .quanted/logs/)")


def engine_log(quiet: bool) -> tuple[TextIO, Callable[[str], None]]:
    """Where the engine's log goes and a writer for it that keeps pegasus's colours only on a
    terminal. With --quiet the writer drops every line."""
    from quanted.core.engine.logscan import strip_ansi

    log = sys.stderr
    colour = log.isatty()

    def on_line(line: str) -> None:
        if quiet:
            return
        log.write((line if colour else strip_ansi(line)) + "\n")
        log.flush()

    return log, on_line


def running(cwd: Path, command: list[str], quiet: bool = False) -> Callable[[str], None]:
    """Say on the log what runs where (unless `quiet`); the writer for the engine's lines."""
    from quanted.core.engine.command import quoted

    log, on_line = engine_log(quiet)
    if not quiet:
        print(f"quanted: running in {cwd}: {quoted(command)}", file=log, flush=True)
    return on_line


@contextmanager
def kept_log(quantize: Path, kind: str, on_line: Callable[[str], None]
             ) -> Iterator[Callable[[str], None]]:
    """`on_line` without TensorFlow's start-up lines, every line kept in .quanted/logs/ beside
    `quantize`; the log's path is said on stderr at the end (a failure included). A run that
    logged nothing (an analysis from the cache) leaves no log."""
    from quanted.core.engine.noise import KeptLog

    log = KeptLog(quantize, kind, on_line)
    try:
        yield log
    finally:
        log.close()
        if log.lines:
            print(f"quanted: {log.describe()}", file=sys.stderr)
        else:
            log.path.unlink(missing_ok=True)


def print_tail(tail: list[str]) -> None:
    """A failed run's last log lines but TensorFlow's start-up ones, indented, on stderr (the
    heading is the caller's)."""
    from quanted.core.engine.logscan import strip_ansi
    from quanted.core.engine.noise import is_noise

    for line in tail:
        if not is_noise(line):
            print("  " + strip_ansi(line), file=sys.stderr)


def print_failed(failed: StepFailed, file: Path, named: str = "{}") -> int:
    """Say on stderr which engine run failed (`named`: how to name it, `{}` its title), its
    command and last lines, and the error; return the status to exit with."""
    from quanted.core.engine.command import quoted

    if failed.run is not None:
        print(f"quanted: {named.format(failed.run.title)} failed with status {failed.status}: "
              f"{quoted(failed.run.command)}", file=sys.stderr)
        print("quanted: its last log lines:", file=sys.stderr)
    print_tail(failed.tail)
    print(f"quanted: error: {file}: {failed.message}", file=sys.stderr)
    return failed.exit_code


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=1)
    sys.stdout.write("\n")
