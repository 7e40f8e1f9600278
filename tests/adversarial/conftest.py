"""Helpers of the adversarial tests (the `pegasus` and `sample_model` fixtures are the
shared ones of tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path


def engine_python(prefix: list[str]) -> Path:
    """The interpreter of the engine's environment (next to its pegasus)."""
    first = Path(prefix[0])
    if first.name.startswith("python"):
        return first
    return first.parent / "python"
