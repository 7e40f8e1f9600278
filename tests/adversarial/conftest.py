"""The real engine for the adversarial tests: the same `pegasus` fixture as tests/engine
(loaded from there, so the two never drift apart)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_engine_conftest", Path(__file__).resolve().parents[1] / "engine" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_engine)

pegasus = _engine.pegasus
sample_model = _engine.sample_model


def engine_python(prefix: list[str]) -> Path:
    """The interpreter of the engine's environment (next to its pegasus)."""
    first = Path(prefix[0])
    if first.name.startswith("python"):
        return first
    return first.parent / "python"
