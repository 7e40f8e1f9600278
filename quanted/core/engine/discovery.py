"""Which pegasus to run: --pegasus, else QUANTED_PEGASUS, else pegasus/pegasus.py on PATH or in
$ACUITY_PATH."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from quanted.core.errors import EngineNotFound

ENV_VAR = "QUANTED_PEGASUS"


def split_prefix(text: str) -> list[str]:
    """A command prefix split like a shell would; it is never run through a shell."""
    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise EngineNotFound(f"cannot split the pegasus command {text!r}: {exc}") from None
    if not parts:
        raise EngineNotFound("the pegasus command is empty")
    return parts


def _script(path: Path) -> list[str]:
    # pegasus.py in an ACUITY toolkit is usually not executable; run it with python3.
    if path.suffix == ".py" and not os.access(path, os.X_OK):
        return ["python3", str(path)]
    return [str(path)]


def find_pegasus(option: str | None = None, environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    if option:
        return split_prefix(option)
    if env.get(ENV_VAR):
        return split_prefix(env[ENV_VAR])
    import shutil  # here: every command imports this module, few search for the engine

    search_path = env.get("PATH", os.defpath)
    for name in ("pegasus", "pegasus.py"):
        found = shutil.which(name, path=search_path)
        if found:
            return _script(Path(found))
    acuity = env.get("ACUITY_PATH")
    if acuity:
        for name in ("pegasus", "pegasus.py", "bin/pegasus", "bin/pegasus.py"):
            candidate = Path(acuity) / name
            if candidate.is_file():
                return _script(candidate)
    # No CLI flags here: the editor shows this too (the CLI adds its --pegasus option).
    raise EngineNotFound(
        "pegasus not found: set QUANTED_PEGASUS to its command, "
        "or put pegasus (or pegasus.py) on PATH or in $ACUITY_PATH"
    )
