"""What every test folder shares: where the public fixtures and the sample live, a copy of
the sample, and the real engine.

The engine (acuitylite 6.57.1) comes from scripts/setup-acuitylite (a cached Python 3.10
environment outside the repository; the first run installs several GB, later runs are a fast
no-op), or from the command prefix in QUANTED_PEGASUS when that is set. When it cannot be set
up, engine tests are skipped with the reason, except under CI (CI=true), where that is a
failure: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PUBLIC = (REPO.parent / "shared" / "fixtures" / "public").resolve()
SAMPLE = REPO / "sample_data"
SAMPLE_QUANTIZE = "tinynet_uint8.quantize"
IN_CI = os.environ.get("CI") == "true"
SETUP_SCRIPT = REPO / "scripts" / "setup-acuitylite"
SETUP_TIMEOUT_S = 3600  # a first install downloads torch and TensorFlow


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


def copy_sample(folder: Path) -> Path:
    """Every file of the sample model but its README into `folder`; the .quantize copy."""
    for item in SAMPLE.iterdir():
        if item.is_file() and item.suffix != ".md":
            (folder / item.name).write_bytes(item.read_bytes())
    return folder / SAMPLE_QUANTIZE


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample model in tmp_path, also the cwd; the .quantize file."""
    monkeypatch.chdir(tmp_path)
    return copy_sample(tmp_path)


@pytest.fixture
def sample_model(tmp_path):
    """A copy of the sample model's engine inputs (no .quantize, no entropy.txt) in tmp_path."""
    names = ["tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt"]
    names += sorted(p.name for p in SAMPLE.glob("input_*.npy"))
    for name in names:
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    return tmp_path


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail("ACUITY engine unavailable under CI: " + reason, pytrace=False)
    pytest.skip("ACUITY engine unavailable: " + reason)


@pytest.fixture(scope="session")
def pegasus() -> list[str]:
    """The real engine's pegasus command prefix, as a list of arguments."""
    given = os.environ.get("QUANTED_PEGASUS", "").strip()
    if given:
        prefix = shlex.split(given)
        if not Path(prefix[0]).exists() and shutil.which(prefix[0]) is None:
            _unavailable(f"QUANTED_PEGASUS={given!r}: {prefix[0]} not found")
        return prefix
    try:
        proc = subprocess.run([str(SETUP_SCRIPT)], capture_output=True, text=True,
                              timeout=SETUP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"{SETUP_SCRIPT.name}: {exc}")
        raise
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        _unavailable(f"{SETUP_SCRIPT.name} exited {proc.returncode}: "
                     f"{lines[-1] if lines else '(no message)'}")
    out = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if not out:
        _unavailable(f"{SETUP_SCRIPT.name} printed no pegasus command")
    return shlex.split(out[-1])
