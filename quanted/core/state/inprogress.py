"""Whether an engine run's in-progress marker may be there, without importing core/recovery:
every edit asks, and the marker is almost never there (its reader and the history it names
were 17 ms of a 15 MB `add`)."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR = ".quanted"  # quanted's state folder beside each file (history, markers)


def marker_name(quantize: Path) -> str:
    return f"in-progress.{quantize.name}.json"


def may_exist(quantize: Path) -> bool:
    """False only when no marker is there; anything odd is left to core/recovery to tell."""
    try:
        os.lstat(quantize.absolute().parent / STATE_DIR / marker_name(quantize))
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True
