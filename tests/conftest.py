"""Shared test helpers: where the public fixtures and the sample live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PUBLIC = (REPO.parent / "shared" / "fixtures" / "public").resolve()
SAMPLE = REPO / "sample_data"
IN_CI = os.environ.get("CI") == "true"


def public(name: str) -> Path:
    path = PUBLIC / name
    if not path.is_file():
        if IN_CI:
            pytest.fail(f"public fixture missing in CI: {path}")
        pytest.skip(f"public fixture not available: {path}")
    return path


@pytest.fixture
def public_copy(tmp_path):
    """Copy a public fixture into tmp_path (they are read-only data) and return the copy."""

    def copy(name: str, as_name: str | None = None) -> Path:
        target = tmp_path / (as_name or name)
        target.write_bytes(public(name).read_bytes())
        return target

    return copy
