"""A model with two inputs on the real engine (tests/engine/build_twoin.py: an image and a
bias vector, each dataset line naming both files): `quanted quantize` and `quanted verify`
(with a task check) work on it unchanged, the engine feeds each input the file its line
names, and the check sees both files on each dataset line. About 80 s of engine time."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import verify
from quanted.core.engine.taskcheck import TaskCheck

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent
INPUTS = 3

# Acceptable when top-1 agrees on every input; fails loudly when a line does not name two files.
CHECK = """import json, pathlib, sys
import numpy as np
float_dir, quant_dir = map(pathlib.Path, sys.argv[1:3])
described = json.loads((float_dir / "outputs.json").read_text())
if any(len(line.split()) != 2 for line in described["dataset"]):
    sys.exit(3)
name = described["outputs"][0]["file"]
same = all(np.argmax(np.load(float_dir / str(i) / (name + ".npy")))
           == np.argmax(np.load(quant_dir / str(i) / (name + ".npy")))
           for i in range(described["inputs"]))
sys.exit(0 if same else 1)
"""


def _engine(pegasus, args, cwd):
    proc = subprocess.run(pegasus + args, cwd=cwd, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_a_two_input_model_through_quantize_and_verify(pegasus, tmp_path, monkeypatch, capsys):
    python = Path(pegasus[0]).with_name("python")
    if not python.is_file():
        pytest.skip("needs the engine environment's python to build twoin.onnx")
    folder = tmp_path / "twoin"
    subprocess.run([str(python), str(HERE / "build_twoin.py"), str(folder)], check=True,
                   timeout=300)
    _engine(pegasus, ["import", "onnx", "--model", "twoin.onnx", "--output-model",
                      "twoin.json", "--output-data", "twoin.data"], folder)
    _engine(pegasus, ["generate", "inputmeta", "--model", "twoin.json",
                      "--input-meta-output", "twoin_inputmeta.yml"], folder)
    meta = (folder / "twoin_inputmeta.yml").read_text()
    assert meta.count("- lid:") == 2 and meta.count("- path: dataset.txt") == 1
    monkeypatch.setenv("QUANTED_PEGASUS", shlex.join(pegasus))
    assert main(["quantize", str(folder / "twoin.json")]) == 0
    capsys.readouterr()
    quantize = folder / "twoin_uint8.quantize"

    script = tmp_path / "check.py"
    script.write_text(CHECK)
    kept = tmp_path / "dumps"
    plan = verify.plan(QuantizeDocument.open(quantize), shlex.join(pegasus), INPUTS,
                       workdir=kept, check=TaskCheck.parse(f"{sys.executable} {script}"))
    result = verify.run(plan)
    assert result.tensors == ["@attach_probs/out0_0:out0"]
    assert result.kinds == {"@attach_probs/out0_0:out0": "class"}  # a softmax feeds it
    assert result.checks[verify.QUANTIZED].acceptable
    described = json.loads((kept / "check" / "quantized" / "outputs.json").read_text())
    assert described["dataset"] == [f"image_{i}.npy bias_{i}.npy" for i in range(INPUTS)]
    # the engine fed each input the file its dataset line names, in order
    for i in range(INPUTS):
        [dump] = [p for p in (kept / "float").glob(f"iter_{i}_bias_*.tensor")
                  if not p.name.endswith(".qnt.tensor")]
        fed = np.loadtxt(dump, dtype=np.float64)
        assert np.allclose(fed, np.load(folder / f"bias_{i}.npy").ravel(), atol=1e-6)
    assert result.summary().top1_count == INPUTS
