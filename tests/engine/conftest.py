"""Fixtures for tests that run the real ACUITY engine (acuitylite 6.57.1).

The engine comes from scripts/setup-acuitylite (a cached Python 3.10 environment outside the
repository; the first run installs several GB, later runs are a fast no-op), or from the
command prefix in the environment variable QUANTED_PEGASUS when that is set.

When the engine cannot be set up, engine tests are skipped with the reason, except under CI
(CI=true), where that is a failure: CI must never pass by skipping them.
"""
import os
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DATA = REPO / "sample_data"
SETUP_SCRIPT = REPO / "scripts" / "setup-acuitylite"
SETUP_TIMEOUT_S = 3600  # a first install downloads torch and TensorFlow


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "engine: runs the real ACUITY engine (acuitylite); slow, needs Python 3.10")


def _unavailable(reason):
    if os.environ.get("CI") == "true":
        pytest.fail("ACUITY engine unavailable under CI: " + reason, pytrace=False)
    pytest.skip("ACUITY engine unavailable: " + reason)


@pytest.fixture(scope="session")
def pegasus():
    """The pegasus command prefix, as a list of arguments."""
    given = os.environ.get("QUANTED_PEGASUS", "").strip()
    if given:
        prefix = shlex.split(given)
        if not Path(prefix[0]).exists() and not _on_path(prefix[0]):
            _unavailable("QUANTED_PEGASUS=%r: %s not found" % (given, prefix[0]))
        return prefix
    try:
        proc = subprocess.run([str(SETUP_SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=SETUP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable("%s: %s" % (SETUP_SCRIPT.name, exc))
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        _unavailable("%s exited %d: %s" % (SETUP_SCRIPT.name, proc.returncode,
                                           lines[-1] if lines else "(no message)"))
    out = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if not out:
        _unavailable("%s printed no pegasus command" % SETUP_SCRIPT.name)
    return shlex.split(out[-1])


def _on_path(name):
    from shutil import which

    return which(name) is not None


@pytest.fixture
def sample_model(tmp_path):
    """A copy of the sample model's engine inputs (no .quantize, no entropy.txt) in tmp_path."""
    names = ["tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt"]
    names += sorted(p.name for p in SAMPLE_DATA.glob("input_*.npy"))
    for name in names:
        (tmp_path / name).write_bytes((SAMPLE_DATA / name).read_bytes())
    return tmp_path
