"""Issue 12 against the real engine (acuitylite 6.57.1), one hybrid run with a float16 layer
shared by every test here: TensorFlow's start-up lines hidden from the user but kept in
.quanted/logs/, stdout free of the log, the converter layers the run inserted marked and never
candidates, and the float16 layer keeping the entropy it was chosen with."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from quanted.core.engine.model_json import read_layers
from quanted.core.engine.noise import is_noise
from quanted.core.document.layers import is_converter
from tests.conftest import REPO, SAMPLE

QUANTIZE = "tinynet_uint8.quantize"
FLOAT16 = "layer2/layer2.1/Add_output_0_12"  # loses its entropy in the hybrid run's report
LOG_LINE = re.compile(r"^[DIWE] \d\d:\d\d:\d\d ")

pytestmark = pytest.mark.engine


def quanted(*args: str, pegasus: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QUANTED_PEGASUS": shlex.join(pegasus)}
    return subprocess.run([sys.executable, "-m", "quanted", *args], capture_output=True,
                          text=True, check=False, env=env, timeout=600)


@pytest.fixture(scope="module")
def after_hybrid(pegasus, tmp_path_factory):
    folder = tmp_path_factory.mktemp("newuser")
    for item in SAMPLE.iterdir():
        if item.is_file() and item.suffix != ".md":
            shutil.copy(item, folder / item.name)
    path = folder / QUANTIZE
    added = quanted("add", str(path), FLOAT16, "--qtype", "float16", pegasus=pegasus)
    assert added.returncode == 0, added.stderr
    run = quanted("hybrid", str(path), pegasus=pegasus)
    assert run.returncode == 0, run.stderr[-3000:]
    return path, run


def test_start_up_noise_is_hidden_and_kept(after_hybrid):
    path, run = after_hybrid
    assert not [line for line in run.stdout.splitlines() if LOG_LINE.match(line)]
    assert "Insert converter layer" in run.stderr  # the engine's own lines are shown
    assert not [line for line in run.stderr.splitlines() if is_noise(line)]
    logs = list((path.parent / ".quanted" / "logs").glob(f"{QUANTIZE}.*.hybrid.log"))
    assert len(logs) == 1 and f"quanted: engine log: {logs[0]}" in run.stderr
    kept = logs[0].read_text().splitlines()
    assert "Insert converter layer" in "\n".join(kept)
    hidden = sum(is_noise(line) for line in kept)
    if hidden:  # TensorFlow prints its cuFFT/cuDNN lines on this machine; say so when it did
        assert f"({hidden} TensorFlow start-up line" in run.stderr


def test_converters_are_marked_and_never_candidates(after_hybrid, pegasus, tmp_path):
    path, _ = after_hybrid
    model = read_layers(path.with_name(QUANTIZE + ".json"))
    converters = {name for name, layer in model.items()
                  if isinstance(layer, dict) and layer.get("op") == "dtype_converter"}
    assert converters and all(is_converter(name) for name in converters)
    rows = json.loads(quanted("layers", str(path), "--json", pegasus=pegasus).stdout)
    shown = converters & {r["layer"] for r in rows}  # some are in neither file nor report
    assert shown and {r["layer"] for r in rows if r["converter"]} >= shown
    top = json.loads(quanted("layers", str(path), "--top", "100", "--json",
                             pegasus=pegasus).stdout)
    assert top and not any(r["converter"] for r in top)
    copy = shutil.copytree(path.parent, tmp_path / "copy") / QUANTIZE  # the others read path
    added = quanted("add", str(copy), "--above", "0.0", pegasus=pegasus)
    assert added.returncode == 0, added.stderr
    assert not any(is_converter(line.split()[1].rstrip(":")) for line in added.stdout.splitlines())


def test_the_float16_layer_keeps_the_entropy_it_was_chosen_with(after_hybrid, pegasus):
    path, _ = after_hybrid
    current = (path.parent / "entropy.txt").read_text()
    assert f"@{FLOAT16}:out0," not in current  # the engine dropped it
    rows = {r["layer"]: r for r in json.loads(
        quanted("layers", str(path), "--json", pegasus=pegasus).stdout)}
    row = rows[FLOAT16]
    assert row["customized"] == "float16"
    assert row["entropy"]["out0"] == pytest.approx(0.5061, abs=1e-4)  # sample README's value
    assert row["entropy_from"].startswith("entropy.txt before the hybrid run of ")


def test_verify_prints_only_its_result_on_stdout(after_hybrid, pegasus):
    path, _ = after_hybrid
    run = quanted("verify", str(path), pegasus=pegasus)
    assert run.returncode == 0, run.stderr[-3000:]
    assert not [line for line in run.stdout.splitlines() if LOG_LINE.match(line) or is_noise(line)]
    assert "cosine" in run.stdout and "iteration 3" in run.stdout  # the dataset's 4 inputs
    assert not [line for line in run.stderr.splitlines() if is_noise(line)]
    assert LOG_LINE.search(run.stderr.splitlines()[1]) or "quanted: [1/" in run.stderr
