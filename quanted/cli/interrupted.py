"""What edits and reads do about a killed engine run's marker. core/recovery (its reader and
the history it names) is imported only when a marker may be there: one lstat otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

from quanted.core.state import inprogress


def refuse_if_interrupted(path: Path) -> None:
    """Edits wait for the user's choice after a killed engine run."""
    if inprogress.may_exist(path):
        from quanted.core.state import recovery

        recovery.refuse_if_interrupted(path)


def warn_if_interrupted(path: Path) -> None:
    """Reading commands go on, with a word about a killed engine run."""
    if not inprogress.may_exist(path):
        return
    from quanted.core.state import recovery

    found = recovery.pending(path)
    if found is not None:
        print(f"quanted: warning: {path}: {found.describe()}; {found.advice()}", file=sys.stderr)
