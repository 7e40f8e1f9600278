"""Fixtures for the editor tests: a copy of a public fixture in tmp_path, and app helpers."""

from __future__ import annotations

import shutil
import threading
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
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
    # the run screen's command line: a blinking cursor made its snapshots pass or fail by phase
    monkeypatch.setattr(TextArea, "cursor_blink", False, raising=False)


# -- the engine screens ---------------------------------------------------------------------


@pytest.fixture
def real_engine(pegasus, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """QUANTED_PEGASUS set to the real engine (the TUI has no --pegasus)."""
    import shlex

    monkeypatch.setenv("QUANTED_PEGASUS", shlex.join(pegasus))
    return pegasus


@pytest.fixture
def no_pegasus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pegasus anywhere: not in QUANTED_PEGASUS, PATH, ACUITY_PATH, or the engine folder
    scripts/setup-acuitylite builds."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.delenv("QUANTED_PEGASUS", raising=False)
    monkeypatch.delenv("ACUITY_PATH", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("QUANTED_ENGINE_DIR", str(tmp_path / "no-engine"))


@pytest.fixture
def full_rows_held(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The loading thread builds the full rows only once the test sets this event (60 s at
    most): what the editor shows before them stays on screen to be looked at."""
    from quanted.tui import loading

    seen = threading.Event()
    from_doc = loading.from_doc

    def held(doc, report):  # type: ignore[no-untyped-def]
        assert seen.wait(60), "the test never said it had seen the first rows"
        return from_doc(doc, report)

    monkeypatch.setattr(loading, "from_doc", held)
    return seen
