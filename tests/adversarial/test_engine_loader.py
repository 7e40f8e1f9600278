"""Issue 11 item 4: `check` agrees with the engine's own YAML loader on a generated corpus of
800+ hostile files. The engine side runs once, in the engine's environment, over all files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import QuantedError
from quanted.core.format.validate import ERROR, YAML, check
from tests.adversarial.conftest import engine_python
from tests.adversarial.corpus import write_corpus

RUNNER = Path(__file__).with_name("engine_loader.py")


def quanted_verdict(path: Path) -> str | None:
    """None when quanted would hand the file to the engine; else why not."""
    try:
        doc = QuantizeDocument.open(path)
    except QuantedError as exc:
        return f"unreadable: {exc}"
    rejected = [p for p in check(doc) if p.severity == ERROR and p.code == YAML]
    if rejected:
        return f"check: line {rejected[0].line}: {rejected[0].message}"
    return None


@pytest.mark.engine
def test_check_agrees_with_the_engine_loader(tmp_path, pegasus):
    cases = write_corpus(tmp_path)
    assert len(cases) >= 500
    python = engine_python(pegasus)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([str(python), str(RUNNER)], input="\n".join(map(str, cases)),
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    engine = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(engine) == len(cases)
    disagreements = []
    rejected = 0
    for path, what in cases.items():
        ours = quanted_verdict(path)
        theirs = engine[str(path)]
        rejected += theirs is not None
        if (ours is None) != (theirs is None):
            disagreements.append(f"{path.name} [{what}]: quanted {ours!r}, engine {theirs!r}")
    assert not disagreements, (f"{len(disagreements)} of {len(cases)}:\n"
                               + "\n".join(disagreements[:40]))
    # The corpus is hostile enough to matter: both verdicts occur, many times.
    assert 100 < rejected < len(cases) - 100
