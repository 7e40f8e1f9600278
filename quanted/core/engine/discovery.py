"""Which pegasus to run: --pegasus, else QUANTED_PEGASUS, else pegasus/pegasus.py on PATH or in
$ACUITY_PATH, else the engine scripts/setup-acuitylite builds (in $QUANTED_ENGINE_DIR, else
~/.cache/quanted/acuitylite-6.57.1, as the script decides)."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from quanted.core.errors import EngineNotFound

ENV_VAR = "QUANTED_PEGASUS"
ENGINE_DIR_VAR = "QUANTED_ENGINE_DIR"
ENGINE_VERSION = "6.57.1"  # scripts/setup-acuitylite's ACUITY_VERSION
COMPLETE_MARKER = ".quanted-engine-complete"  # the script writes it last


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
    built = engine_dir(env)
    if built is not None:
        program = built / "bin" / "pegasus"
        if (built / COMPLETE_MARKER).is_file() and os.access(program, os.X_OK):
            return [str(program)]
    # No CLI flags here: the editor shows this too (the CLI adds its --pegasus option).
    unfinished = (f" ({built} is not finished: being built, or interrupted)"
                  if built is not None and built.is_dir() else "")
    raise EngineNotFound(
        f"pegasus not found{unfinished}: build ACUITY's engine once with "
        f"`{setup_command()}`, or set QUANTED_PEGASUS to its command, "
        "or put pegasus (or pegasus.py) on PATH or in $ACUITY_PATH"
    )


def engine_dir(env: Mapping[str, str]) -> Path | None:
    """Where scripts/setup-acuitylite puts the engine for this environment (None: no home)."""
    if env.get(ENGINE_DIR_VAR):
        return Path(env[ENGINE_DIR_VAR].rstrip("/") or "/")
    home = env.get("HOME")
    if not home:
        return None
    return Path(home) / ".cache" / "quanted" / f"acuitylite-{ENGINE_VERSION}"


def setup_command() -> str:
    """The command that builds the engine: its full path in a source checkout (an editable
    install), else as run from one."""
    script = Path(__file__).resolve().parents[3] / "scripts" / "setup"
    return f"{script} --engine" if script.is_file() else "scripts/setup --engine"
