"""A model with two inputs on the real engine (tests/engine/build_twoin.py: an image and a
bias vector; each dataset line names both files, in the inputmeta's port order) through
`quanted quantize`, `hybrid`, `verify`, `analyze` and `tune`, every step by the CLI:

- quantize calibrates over the dataset's lines (3, not its 6 files) and tables the image
  input; the engine leaves the bias input float (no entry in quantize_parameters);
- verify's figures are numpy's on the engine's own output tensors of each line, and the
  engine fed each port the file its line names (its dumps of both inputs);
- swapping the bias files of two lines changes those lines' outputs exactly as the model's
  softmax says (both files of a line are read, and paired by line), and no other line's;
- hybrid applies the list (read from quantize_parameters) with --iterations = the lines;
  raising the Add the float input feeds is the engine's conflict, reported per layer;
- analyze has figures for the layers fed by each input, and its output row is verify's;
- tune drops only that Add after its conflict, meets the target, and its figure is an
  independent `verify` of the file after `hybrid` with the set.

Every quanted command runs in this process (one warm engine for all); the model's import and
the two inferences of our own run cold. 1m50-3m05 on the shared 2-core machine, half of
it those cold runs."""

from __future__ import annotations

import io
import json
import shlex
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from ruamel.yaml import YAML

from quanted.cli.dispatch import main

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent
INPUTS = 3
QUANTIZE = "twoin_uint8.quantize"
OUT = "@attach_probs/out0_0:out0"
IMAGE, BIAS = "image_7", "bias_8"  # the input layers as the importer names them
ADD = "Add_output_0_2"  # fed by the fully connected layer and the bias input
I16 = "dynamic_fixed_point-i16"
TARGET = 0.99995  # plain: 0.999744; every candidate but the Add: 0.999958

# Keeps both folders it is given under DEST; acceptable when top-1 agrees on every input;
# fails loudly (3) when a line does not name two files.
CAPTURE = """import json, pathlib, shutil, sys
import numpy as np
dest, float_dir, quant_dir = map(pathlib.Path, sys.argv[1:4])
shutil.copytree(float_dir, dest / "float", dirs_exist_ok=True)
shutil.copytree(quant_dir, dest / quant_dir.name, dirs_exist_ok=True)
described = json.loads((float_dir / "outputs.json").read_text())
if any(len(line.split()) != 2 for line in described["dataset"]):
    sys.exit(3)
name = described["outputs"][0]["file"]
same = all(np.argmax(np.load(float_dir / str(i) / (name + ".npy")))
           == np.argmax(np.load(quant_dir / str(i) / (name + ".npy")))
           for i in range(described["inputs"]))
sys.exit(0 if same else 1)
"""


def cli(*args: str) -> tuple[int, str, str]:
    """`quanted ARGS` in this process: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _engine(pegasus, args, cwd):
    proc = subprocess.run(pegasus + args, cwd=cwd, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]


def copy(folder: Path, tmp_path: Path) -> Path:
    """A copy of the folder `quanted quantize` left (.quanted/ too: the calibration it
    recorded); its .quantize."""
    target = tmp_path / "twoin"
    shutil.copytree(folder, target)
    return target / QUANTIZE


def table(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())["quantize_parameters"]


def cos(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.fixture(scope="module")
def model(pegasus, tmp_path_factory):
    """twoin imported, its inputmeta generated and `quanted quantize`d; the folder."""
    python = Path(pegasus[0]).with_name("python")
    if not python.is_file():
        pytest.skip("needs the engine environment's python to build twoin.onnx")
    folder = tmp_path_factory.mktemp("twoin") / "model"
    subprocess.run([str(python), str(HERE / "build_twoin.py"), str(folder)], check=True,
                   timeout=300)
    _engine(pegasus, ["import", "onnx", "--model", "twoin.onnx", "--output-model",
                      "twoin.json", "--output-data", "twoin.data"], folder)
    _engine(pegasus, ["generate", "inputmeta", "--model", "twoin.json",
                      "--input-meta-output", "twoin_inputmeta.yml"], folder)
    code, out, err = cli("quantize", str(folder / "twoin.json"), "--pegasus",
                         shlex.join(pegasus), "--json")
    assert code == 0, err[-3000:]
    return folder


@pytest.fixture(scope="module")
def verified(model, pegasus, tmp_path_factory):
    """`quanted verify --json --check CAPTURE` of the fresh file: (its JSON, what the check
    was given)."""
    tmp = tmp_path_factory.mktemp("verify")
    script = tmp / "capture.py"
    script.write_text(CAPTURE)
    path = copy(model, tmp)
    kept = tmp / "given"
    code, out, err = cli("verify", str(path), "--pegasus", shlex.join(pegasus), "--json",
                         "--quiet", "--check", f"{sys.executable} {script} {kept}")
    assert code == 0, err[-3000:]
    return json.loads(out), kept


def test_quantize_calibrates_over_the_lines_and_tables_the_image_input(model):
    meta = YAML(typ="safe").load((model / "twoin_inputmeta.yml").read_text())
    [database] = meta["input_meta"]["databases"]
    assert database["path"] == "dataset.txt"
    assert [port["lid"] for port in database["ports"]] == [IMAGE, BIAS]
    [log] = (model / ".quanted" / "logs").glob("*.quantize.log")
    text = log.read_text()
    assert f"Running {INPUTS} iteration(s)" in text  # lines, not files (6)
    assert f"Lids: ['{IMAGE}', '{BIAS}']" in text
    params = table(model / QUANTIZE)
    assert params[f"@{IMAGE}:out0"]["qtype"] == "u8"
    # the engine leaves the bias input float: it has no entry in the table
    assert not any(key.startswith(f"@{BIAS}:") for key in params)
    assert params[f"@{ADD}:out0"]["qtype"] == "u8"


def test_verify_figures_are_numpys_on_the_engines_own_outputs(model, verified, pegasus,
                                                              tmp_path):
    result, kept = verified
    assert result["iterations"] == INPUTS and result["tensors"] == [OUT]
    assert result["outputs"][OUT]["kind"] == "class"  # a softmax feeds it
    assert result["check"]["quantized"]["acceptable"] is True
    described = json.loads((kept / "quantized" / "outputs.json").read_text())
    assert described["dataset"] == [f"image_{i}.npy bias_{i}.npy" for i in range(INPUTS)]

    # our own two inferences, the commands verify prints with --dry-run, cold and in parallel
    base = ["inference", "--model", "twoin.json", "--model-data", "twoin.data",
            "--with-input-meta", "twoin_inputmeta.yml", "--postprocess", "dump_results",
            "--iterations", str(INPUTS)]
    runs = {"float": ["--dtype", "float32"],
            "quantized": ["--model-quantize", QUANTIZE, "--dtype", "quantized"]}
    procs = {}
    for label, extra in runs.items():
        procs[label] = subprocess.Popen([*pegasus, *base, *extra, "--output-dir",
                                         str(tmp_path / label)], cwd=model,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for label, proc in procs.items():
        assert proc.wait(timeout=600) == 0, label

    def dump(label: str, i: int, layer: str) -> np.ndarray:
        [path] = [p for p in (tmp_path / label).glob(f"iter_{i}_{layer}_*.tensor")
                  if not p.name.endswith(".qnt.tensor")]
        return np.loadtxt(path, dtype=np.float64)

    name = described["outputs"][0]["file"]
    for i in range(INPUTS):
        f, q = dump("float", i, "attach_probs"), dump("quantized", i, "attach_probs")
        assert result["cosine"][OUT][i] == pytest.approx(cos(f, q), abs=1e-6)
        assert result["max_abs_error"][OUT][i] == pytest.approx(float(np.abs(f - q).max()),
                                                                abs=1e-6)
        assert result["top1_agreement"][OUT][i] == (np.argmax(f) == np.argmax(q))
        # what the check was given is the engine's output of the same line
        assert np.allclose(np.load(kept / "float" / str(i) / f"{name}.npy").ravel(), f,
                           atol=1e-6)
        assert np.allclose(np.load(kept / "quantized" / str(i) / f"{name}.npy").ravel(), q,
                           atol=1e-6)
        # the engine fed each port the file its line names: both inputs, line by line
        assert np.allclose(dump("float", i, BIAS), np.load(model / f"bias_{i}.npy").ravel(),
                           atol=1e-6)
        assert np.allclose(dump("float", i, IMAGE), np.load(model / f"image_{i}.npy").ravel(),
                           atol=1e-6)  # in the inputmeta's layout, nchw
        # the quantized model quantizes the image and takes the bias as it is (no .qnt dump)
        assert list((tmp_path / "quantized").glob(f"iter_{i}_{IMAGE}_*.qnt.tensor"))
        assert not list((tmp_path / "quantized").glob(f"iter_{i}_{BIAS}_*.qnt.tensor"))
    summary = result["summary"]["quantized"]
    assert summary["count"] == INPUTS
    assert summary["min_cosine"] == pytest.approx(min(result["cosine"][OUT]), abs=1e-12)


def test_swapping_the_bias_files_of_two_lines_changes_their_outputs_as_the_model_says(
        model, verified, pegasus, tmp_path):
    before, kept = verified
    path = copy(model, tmp_path)
    lines = [f"image_{i}.npy bias_{i}.npy" for i in range(INPUTS)]
    lines[0], lines[1] = "image_0.npy bias_1.npy", "image_1.npy bias_0.npy"
    (path.parent / "dataset.txt").write_text("".join(f"{line}\n" for line in lines))
    script = tmp_path / "capture.py"
    script.write_text(CAPTURE)
    swapped = tmp_path / "given"
    code, out, err = cli("verify", str(path), "--pegasus", shlex.join(pegasus), "--json",
                         "--quiet", "--check", f"{sys.executable} {script} {swapped}")
    assert code == 0, err[-3000:]
    name = json.loads((swapped / "float" / "outputs.json").read_text())["outputs"][0]["file"]

    def probs(folder: Path, i: int) -> np.ndarray:
        return np.load(folder / "float" / str(i) / f"{name}.npy").ravel().astype(np.float64)

    bias = [np.load(model / f"bias_{i}.npy").ravel().astype(np.float64) for i in range(INPUTS)]
    # probs = softmax(logits(image) + bias): line 0 now adds bias_1 to image_0's logits
    for i, j in ((0, 1), (1, 0)):
        logits = np.log(probs(kept, i)) - bias[i]
        assert not np.allclose(probs(swapped, i), probs(kept, i), atol=1e-3)
        assert np.allclose(probs(swapped, i), softmax(logits + bias[j]), atol=1e-5)
    assert np.array_equal(probs(swapped, 2), probs(kept, 2))
    assert json.loads(out)["cosine"][OUT][2] == before["cosine"][OUT][2]


def test_hybrid_applies_the_list_with_one_iteration_a_line(model, pegasus, tmp_path):
    path = copy(model, tmp_path)
    engine = shlex.join(pegasus)
    raised = ["conv/Conv_output_0_6", "fc/Gemm_output_0_3"]  # one each side of the Flatten
    assert cli("add", str(path), *raised)[0] == 0
    code, out, err = cli("hybrid", str(path), "--pegasus", engine, "--json", "--quiet")
    assert code == 0, err[-3000:]
    result = json.loads(out)
    assert result["applied"] == {layer: I16 for layer in raised} and not result["not_applied"]
    [log] = (path.parent / ".quanted" / "logs").glob("*.hybrid.log")
    assert f"Running {INPUTS} iteration(s)" in log.read_text()  # --iterations: the lines
    params = table(path)
    for layer in raised:
        for port in ("out0", "weight"):
            tensor = params[f"@{layer}:{port}"]
            assert (tensor["quantizer"], tensor["qtype"]) == ("dynamic_fixed_point", "i16")
    for layer in (IMAGE, ADD, "Relu_output_0_5"):
        assert params[f"@{layer}:out0"]["qtype"] == "u8"

    # the Add the float input feeds: the engine's conflict, which applies nothing
    assert cli("add", str(path), ADD)[0] == 0
    code, out, err = cli("hybrid", str(path), "--pegasus", engine, "--json", "--quiet")
    assert code == 1
    result = json.loads(out)
    assert ADD in result["not_applied"]
    assert any(f"conflict to quantize tensor @{BIAS}:out0" in f["message"]
               for f in result["failures"])


def test_analyze_has_figures_for_the_layers_each_input_feeds(model, verified, pegasus,
                                                             tmp_path):
    path = copy(model, tmp_path)
    code, out, err = cli("analyze", str(path), "--pegasus", shlex.join(pegasus), "--json")
    assert code == 0, err[-3000:]
    result = json.loads(out)
    assert result["iterations"] == INPUTS
    rows = {row["layer"]: row for row in result["layers"]}
    layers = json.loads((path.parent / "twoin.json").read_text())["Layers"]
    for source in (IMAGE, BIAS):
        fed = [layer for layer, spec in layers.items()
               if f"@{source}:out0" in spec.get("inputs", [])]
        assert fed, source
        for layer in (source, *fed):
            assert rows[layer]["cosine"] is not None, layer
    # the bias input reaches the quantized model as it is (float)
    assert rows[BIAS]["cosine"] == pytest.approx(1.0, abs=1e-12)
    # the Add's drop: the lower of its producers' cosines (the FC and the bias) minus its own
    add = rows[ADD]
    low = min(rows["fc/Gemm_output_0_3"]["cosine"], rows[BIAS]["cosine"])
    assert add["drop"] == pytest.approx(low - add["cosine"], abs=1e-12)
    # the softmax's row is the model's output: verify's figures
    verify = verified[0]["outputs"][OUT]["quantized"]
    assert rows["probs_1"]["cosine_min"] == pytest.approx(verify["min_cosine"], abs=1e-6)
    assert rows["probs_1"]["cosine"] == pytest.approx(verify["mean_cosine"], abs=1e-6)


def test_tune_drops_the_conflicting_add_and_its_figure_is_an_independent_verify(
        model, pegasus, tmp_path):
    path = copy(model, tmp_path / "tune")
    engine = shlex.join(pegasus)
    code, out, err = cli("tune", str(path), "--pegasus", engine, "--json", "--jobs", "1",
                         "--max-trials", "8", "--target-cosine", str(TARGET))
    assert code == 0, err[-3000:]
    result = json.loads(out)
    assert result["met"] is True
    layers = result["layers"]
    assert layers and ADD not in layers
    trials = result["trials"]
    plain, every, but_add = trials[:3]
    assert plain["layers"] == [] and plain["applied"] and plain["min_cosine"] < TARGET
    # all raised: the engine's conflict on the float input applies nothing; only the Add is
    # dropped, and all the others raised meet the target
    assert ADD in every["layers"] and not every["applied"]
    assert f"the engine did not apply {I16} to {ADD}: dropped from the candidates" in err
    assert set(but_add["layers"]) == set(every["layers"]) - {ADD}
    assert but_add["applied"] and but_add["min_cosine"] >= TARGET
    assert len(trials) <= 8
    trial = next(t for t in trials if set(t["layers"]) == set(layers))
    assert trial["applied"] and trial["min_cosine"] >= TARGET
    assert YAML(typ="safe").load(path.read_text())["customized_quantize_layers"] == layers

    # independently: the plain file, `quanted add` the set, `quanted hybrid`, `quanted verify`
    fresh = copy(model, tmp_path / "fresh")
    assert cli("add", str(fresh), *layers)[0] == 0
    code, out, err = cli("hybrid", str(fresh), "--pegasus", engine, "--json", "--quiet")
    assert code == 0, err[-3000:]
    assert json.loads(out)["applied"] == layers
    code, out, err = cli("verify", str(fresh), "--pegasus", engine, "--json", "--quiet")
    assert code == 0, err[-3000:]
    summary = json.loads(out)["summary"]["quantized"]
    assert summary["count"] == INPUTS
    assert summary["min_cosine"] == pytest.approx(trial["min_cosine"], abs=1e-6)
