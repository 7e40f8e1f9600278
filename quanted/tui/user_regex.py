"""The filter's text compiled as a regex without a warning: `[[` or `[a--b]` makes `re` emit a
FutureWarning (syntax a later Python may read otherwise). The text is the user's to type, and a
warning printed to the terminal the editor draws on would only garble the screen."""

from __future__ import annotations

import re
import warnings


def compile_quietly(text: str, flags: int = 0) -> re.Pattern[str] | None:
    """`text` as a regex; None when it is not a valid one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return re.compile(text, flags)
        except re.error:
            return None
