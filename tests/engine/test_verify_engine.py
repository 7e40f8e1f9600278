"""`quanted verify` against the real engine (acuitylite 6.57.1) on the sample model after a
hybrid run: its figures equal ones computed here from pegasus's own dumps, the table shows both
top-5s, the history grows by one per verify and `--history` marks the best. About 80 s: one
hybrid run, two verifies of three inferences, and three inferences of our own (in parallel)."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest

from quanted.cli import main
from quanted.core.state.history import History
from tests.conftest import copy_sample

QUANTIZE = "tinynet_uint8.quantize"
OUT = "@attach_output/out0_0:out0"
DUMP = "iter_{}_attach_output_out0_0_out0_1_10.tensor"
ITERATIONS = 2

pytestmark = pytest.mark.engine


@pytest.fixture
def hybrid_sample(tmp_path, pegasus, capsys):
    path = copy_sample(tmp_path)
    assert main(["hybrid", str(path), "--pegasus",
                 shlex.join(pegasus)]) == 0, capsys.readouterr().err[-3000:]
    capsys.readouterr()
    return path


def own_inferences(pegasus, folder: Path, out: Path) -> dict[str, list[np.ndarray]]:
    """float, hybrid quantized and plain quantized, dumped by pegasus, read with numpy only."""
    plain = History(folder / QUANTIZE).first_copy("before-hybrid")
    base = ["inference", "--model-data", "tinynet.data", "--with-input-meta",
            "tinynet_inputmeta.yml",
            "--postprocess", "dump_results", "--iterations", str(ITERATIONS)]
    runs = {
        "float": ["--model", "tinynet.json", "--dtype", "float32"],
        "quantized": ["--model", QUANTIZE + ".json", "--model-quantize", QUANTIZE, "--dtype",
                      "quantized"],
        "plain": ["--model", "tinynet.json", "--model-quantize", str(plain), "--dtype",
                  "quantized"],
    }
    procs = {}
    for label, extra in runs.items():
        (out / label).mkdir(parents=True)
        procs[label] = subprocess.Popen(
            [*pegasus, *base, *extra, "--output-dir", str(out / label)],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for label, proc in procs.items():
        assert proc.wait(timeout=300) == 0, label
    return {label: [np.loadtxt(out / label / DUMP.format(i)) for i in range(ITERATIONS)]
            for label in runs}


def cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_matches_pegasus_dumps_and_keeps_history(hybrid_sample, pegasus, tmp_path, capsys):
    folder = hybrid_sample.parent
    history = folder / ".quanted" / "history"
    before = {p.name: digest(p) for p in history.iterdir() if p.name != "history.jsonl"}
    quantize_before = digest(hybrid_sample)
    cmd = ["verify", str(hybrid_sample), "--pegasus", shlex.join(pegasus)]

    assert main([*cmd, "--iterations", str(ITERATIONS), "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert "quanted: [3/3] plain quantized" in err and "End inference" in err

    own = own_inferences(pegasus, folder, tmp_path / "own")
    assert result["tensors"] == [OUT]
    for i in range(ITERATIONS):
        f, q, p = own["float"][i], own["quantized"][i], own["plain"][i]
        assert result["cosine"][OUT][i] == pytest.approx(cos(f, q), abs=1e-9)
        assert result["plain_quantized"]["cosine"][OUT][i] == pytest.approx(cos(f, p), abs=1e-9)
        assert result["max_abs_error"][OUT][i] == pytest.approx(float(np.abs(f - q).max()),
                                                                abs=1e-9)
        top_f, top_q = np.argsort(-f, kind="stable")[:5], np.argsort(-q, kind="stable")[:5]
        assert [c for c, _ in result["top5"]["float"][OUT][i]] == top_f.tolist()
        assert [c for c, _ in result["top5"]["quantized"][OUT][i]] == top_q.tolist()
        assert result["top5"]["float"][OUT][i][0][1] == pytest.approx(float(f.max()))
        assert result["top1_agreement"][OUT][i] == (top_f[0] == top_q[0])
        assert result["top5_overlap"][OUT][i] == pytest.approx(len(set(top_f) & set(top_q)) / 5)

    # verify wrote nothing but its record: FILE and the history copies are untouched
    assert digest(hybrid_sample) == quantize_before
    assert {p.name: digest(p) for p in history.iterdir() if p.name != "history.jsonl"} == before
    assert len(History(hybrid_sample).entries("verify")) == 1

    assert main([*cmd, "--iterations", str(ITERATIONS)]) == 0
    table = capsys.readouterr().out
    assert "top-5 float           quantized             plain quantized" in table
    first_float = result["top5"]["float"][OUT][0][0]
    assert f"  {first_float[0]}: {first_float[1]:.6f}" in table
    assert "quantized: mean cosine " in table and "plain quantized: mean cosine " in table
    entries = History(hybrid_sample).entries("verify")
    assert len(entries) == 2
    assert entries[-1].data["customized"] == result["customized"]

    assert main(["verify", "--history", str(hybrid_sample)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and sum(line.endswith("<- best") for line in lines) == 1
    assert all(f"customized   {len(result['customized'])}" in line for line in lines)
