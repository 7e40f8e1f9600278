"""What the run screen (ctrl+r) writes: the result of a --hybrid run or of a --rebuild, and
its command line switched between the two."""

from __future__ import annotations

import re

from rich.text import Text

from quanted.core.engine.hybrid import HybridResult
from quanted.core.engine.quantize import QuantizeResult

# Whole words only: `--hybrid-foo` or a file named `x--rebuild` stay as they are.
_HYBRID = re.compile(r"(?<!\S)--hybrid(?!\S)")
_REBUILD = re.compile(r"(?<!\S)--rebuild(?:-all)?(?!\S)")


def switched(line: str, rebuild: bool) -> str:
    """The same command line with --hybrid turned into --rebuild (or back), as typed."""
    if rebuild:
        return _HYBRID.sub("--rebuild", line)
    return _REBUILD.sub("--hybrid", line)


def result_text(result: HybridResult) -> Text:
    """Failures first (each with its layer), then the restore, the report, the comments."""
    text = Text()
    if result.failures:
        text.append(f"{len(result.failures)} edit(s) NOT applied — pegasus exited "
                    f"{result.engine_status} anyway:\n", style="bold red")
        for failure in result.failures:
            text.append(f"  {failure.layer or '(no layer named)'}", style="bold red")
            if failure.qtype:
                text.append(f"  {failure.qtype}", style="red")
            text.append(f"\n      {failure.message}\n", style="red")
        text.append("\n")
    if result.restored:
        text.append(f"{result.restored}\n\n", style="bold yellow")
    if result.report is not None:
        text.append("What changed\n", style="bold underline")
        for line in result.report.lines():
            style = "dim" if line.endswith("(unchanged)") else ""
            text.append(line + "\n", style=style)
        for line in result.configuration_lines():
            text.append(line + "\n", style="yellow" if "not" in line else "")
    if result.comments_carried:
        text.append(f"\nPut back {result.comments_carried} comment(s) pegasus dropped.\n",
                    style="green")
    if result.report is not None or result.restored:
        text.append("\nesc/q: close; the editor reloads the file and entropy.txt.", style="dim")
    return text


def rebuild_text(result: QuantizeResult) -> Text:
    """What the engine logged as failed, the restore, then where the old file went and what
    was carried over onto the fresh file."""
    text = Text()
    for failure in result.failures:
        text.append(f"{failure.describe()}\n", style="bold red")
    for hint in result.hints:
        text.append(f"hint: {hint}\n", style="yellow")
    if result.restored:
        text.append(f"{result.restored}\n", style="bold yellow")
    else:
        text.append(f"Rebuilt {result.quantize.name}: {len(result.customized)} customized "
                    f"layer(s) (attempt {result.attempt}).\n", style="bold")
        if result.backup is not None:
            text.append(f"The old file is in {result.backup}\n", style="dim")
        for line in result.carry.lines() if result.carry is not None else []:
            style = "yellow" if line.startswith("not carried") else "green"
            text.append(line + "\n", style=style)
    text.append("\nesc/q: close; the editor reloads the file and entropy.txt.", style="dim")
    return text
