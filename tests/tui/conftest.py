"""Fixtures for the editor tests: a copy of a public fixture in tmp_path, and app helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui_helpers import KHADAS, KHADAS_ENTROPY, PUBLIC


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path holding the khadas fixture and its report as entropy.txt; also the cwd."""
    if not (PUBLIC / KHADAS).is_file():
        pytest.fail(f"public fixtures not found at {PUBLIC.resolve()}")
    shutil.copyfile(PUBLIC / KHADAS, tmp_path / KHADAS)
    shutil.copyfile(PUBLIC / KHADAS_ENTROPY, tmp_path / "entropy.txt")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def quantize(workdir: Path) -> Path:
    return workdir / KHADAS


@pytest.fixture
def original(quantize: Path) -> bytes:
    return quantize.read_bytes()


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking cursor anywhere: snapshots and timings stay deterministic."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
