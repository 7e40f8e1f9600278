"""The hybrid run's command line as the run screen shows and edits it. No widgets here: these
run in thread workers (opening and checking a 15 MB file takes a moment)."""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine import hybrid
from quanted.core.engine.discovery import EngineNotFound, find_pegasus
from quanted.core.errors import QuantedError
from quanted.core.validate import Problem, check


@dataclass
class Draft:
    """What the run screen starts with."""

    text: str  # the command line, editable; "" when it cannot be built
    problems: list[Problem] = field(default_factory=list)
    message: str | None = None  # why the command is not ready (pegasus not found, ...)


def draft(path: Path) -> Draft:
    """The zero-config command, or as much of it as can be built, and the check's problems."""
    path = path.absolute()
    doc = QuantizeDocument.open(path)
    problems = check(doc)
    try:
        args = cmd.hybrid_args(path, doc)
    except QuantedError as exc:
        return Draft("", problems, f"{exc.message}. Paste the `pegasus quantize ... --rebuild` "
                                   "line pegasus_quantize.sh printed, then press enter.")
    try:
        prefix = find_pegasus(None)
    except EngineNotFound as exc:
        return Draft(cmd.quoted(["pegasus", *args]), problems,
                     f"{exc.message}. Or write the full pegasus command in the command line.")
    return Draft(cmd.quoted(prefix + args), problems)


def is_printed_rebuild(words: list[str]) -> bool:
    return any(word in cmd.REBUILD_FLAGS for word in words)


def plan_from_text(path: Path, text: str) -> hybrid.HybridPlan:
    """The plan for the command line as the user left it: a printed `--rebuild` command goes
    through `plan(from_command=)` (--rebuild becomes --hybrid); anything else runs as written."""
    path = path.absolute()
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise cmd.CommandError(f"cannot split the command line: {exc}") from None
    if not words:
        raise cmd.CommandError("the command line is empty: write the pegasus command")
    if is_printed_rebuild(words):
        the_plan = hybrid.plan(path, from_command=text)
    else:
        the_plan = hybrid.HybridPlan(path, words, check(QuantizeDocument.open(path)))
    program = the_plan.command[0]
    if not _runnable(program, path.parent):
        raise EngineNotFound(f"cannot run {program!r}: no such program (set QUANTED_PEGASUS, "
                             "put pegasus on PATH, or write its full path)")
    return the_plan


def _runnable(program: str, cwd: Path) -> bool:
    if "/" in program:
        target = cwd / program
        return target.is_file() and os.access(target, os.X_OK)
    return shutil.which(program) is not None
