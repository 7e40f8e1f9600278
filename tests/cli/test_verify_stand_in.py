"""`quanted verify` end to end with a stand-in pegasus that writes dump_results files the way
acuitylite 6.57.1 does (names, one number per line, .qnt dumps): runs, figures, history,
failure and cancel. The real engine is in tests/engine/test_verify_engine.py."""

from __future__ import annotations

import json
import shutil
import stat
import sys
import tempfile

import numpy as np
import pytest

from quanted.cli import main
from quanted.cli.verify_table import table_lines
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import verify
from quanted.core.engine.outputs import cosine
from quanted.core.engine.step import Cancel, Events
from quanted.core.state.history import History
from tests.cli.verify_stand_in import FLOAT, HYBRID, OUT, PLAIN, STAND_IN
from tests.conftest import SAMPLE

@pytest.fixture
def stand_in(tmp_path):
    script = tmp_path / "bin" / "pegasus"
    script.parent.mkdir()
    script.write_text(STAND_IN)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.fixture
def model(tmp_path, monkeypatch):
    """The sample after a (pretend) hybrid run: history copy + NAME_POSTFIX.quantize.json."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "tinynet_uint8.quantize"):
        shutil.copy(SAMPLE / name, folder / name)
    path = folder / "tinynet_uint8.quantize"
    History(path).save_copy("before-hybrid", {"customized": {}})
    shutil.copy(folder / "tinynet.json", folder / "tinynet_uint8.quantize.json")
    path.write_text(path.read_text().replace("zero_point: 0", "zero_point: 1", 1))  # "hybrid"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return path


def rotated(values, i):
    return np.array(values[i:] + values[:i])


def test_three_runs_figures_and_history(model, stand_in, capsys):
    assert main(["verify", str(model), "--pegasus", stand_in, "--iterations", "2", "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    for i in range(2):
        f, q, p = rotated(FLOAT, i), rotated(HYBRID, i), rotated(PLAIN, i)
        cos = float(f @ q / np.linalg.norm(f) / np.linalg.norm(q))
        assert result["cosine"][OUT][i] == pytest.approx(cos)
        assert result["plain_quantized"]["cosine"][OUT][i] == pytest.approx(cosine(f, p))
        assert result["max_abs_error"][OUT][i] == pytest.approx(float(np.max(np.abs(f - q))))
    assert result["top5"]["float"][OUT][0] == [[3, 0.6], [7, 0.2], [0, 0.05], [4, 0.04], [5, 0.03]]
    assert result["top5"]["quantized"][OUT][0][0] == [3, 0.55]
    assert result["top5"]["plain_quantized"][OUT][0][0] == [7, 0.4]
    assert result["top1_agreement"][OUT] == [True, True]
    assert result["plain_quantized"]["top1_agreement"][OUT][0] is False
    assert result["summary"]["quantized"]["top1_agree"] == 2
    assert [r["label"] for r in result["runs"]] == ["float", "quantized", "plain_quantized"]
    # progress and the engine log went to stderr with --json, without colour
    assert "quanted: [2/3] quantized (hybrid model): " in err
    assert "I 10:00:00 Start inference" in err
    assert "\x1b[" not in err
    # the engine got a copy of the history file, in the temporary folder, which is gone now
    calls = (model.parent / "calls.log").read_text().splitlines()
    assert len(calls) == 3 and ".quanted" not in calls[2]
    assert "plain_tinynet_uint8.quantize" in calls[2]
    assert "--postprocess dump_results" in calls[0] and "--iterations 2" in calls[0]
    assert not list((model.parent.parent / "tmp").iterdir())

    assert main(["verify", str(model), "--pegasus", stand_in, "--iterations", "2"]) == 0
    table, err = capsys.readouterr()
    assert "top-5 float           quantized             plain quantized" in table
    assert "  3: 0.600000           3: 0.550000           7: 0.400000" in table
    assert "quanted: [3/3] plain quantized" in err  # the log goes to stderr, --json or not
    assert "Start inference" not in table
    entries = History(model).entries("verify")
    assert len(entries) == 2 and entries[0].data["customized"] == entries[1].data["customized"]
    assert main(["verify", "--history", str(model)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and sum("<- best" in line for line in lines) == 1
    assert main(["verify", "--history", "--json", str(model)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [a["best"] for a in listed].count(True) == 1 and listed[0]["iterations"] == 2


def test_failing_inference_exits_with_its_status(model, stand_in, capsys, monkeypatch):
    monkeypatch.setenv("STAND_IN_FAIL", "hybrid")
    # --quiet hides the streamed log, not the failing run's last lines
    assert main(["verify", str(model), "--pegasus", stand_in, "--quiet"]) == 5
    err = capsys.readouterr().err
    assert "quanted: quantized (hybrid model) failed with status 5: " in err
    assert "--model tinynet_uint8.quantize.json" in err
    assert "  E 10:00:02 Inference failed: out of memory" in err
    assert "  D 10:00:01 line 29" in err and "line 5\n" not in err  # only the last lines
    assert History(model).entries("verify") == []
    assert not list((model.parent.parent / "tmp").iterdir())


def test_without_history_and_hybrid_model_two_runs(model, stand_in, capsys):
    shutil.rmtree(model.parent / ".quanted")
    (model.parent / "tinynet_uint8.quantize.json").unlink()
    plan = verify.plan(QuantizeDocument.open(model), stand_in)
    assert [r.label for r in plan.runs] == ["float", "quantized"]
    assert plan.runs[1].command[plan.runs[1].command.index("--model") + 1] == "tinynet.json"
    assert any("7 customized layer(s) are not applied" in note for note in plan.notes)
    result = verify.run(plan)
    assert result.plain is None and result.to_json()["plain_quantized"] is None
    assert "plain_quantized" not in result.to_json()["top5"]
    assert "plain quantized" not in "\n".join(table_lines(result))


def test_cancel_between_runs(model, stand_in):
    plan = verify.plan(QuantizeDocument.open(model), stand_in)
    cancel = Cancel()
    seen = []

    def on_progress(p: verify.VerifyProgress) -> None:
        seen.append(p.run.label)
        if p.index == 2:
            cancel.cancel()

    with pytest.raises(verify.VerifyCancelled) as caught:
        verify.run(plan, Events(progress=on_progress), cancel)
    assert caught.value.exit_code == 130 and seen == ["float", "quantized"]
    assert History(model).entries("verify") == []


def test_dry_run_and_bad_iterations(model, stand_in, capsys):
    assert main(["verify", str(model), "--pegasus", stand_in, "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# in ") and out[1].startswith("# copy ")
    assert len(out) == 5 and all(" inference --model " in line for line in out[2:])
    assert main(["verify", str(model), "--pegasus", stand_in, "--iterations", "0"]) == 2
    assert "--iterations must be at least 1" in capsys.readouterr().err


def test_cancel_during_a_run_stops_the_engine(model, stand_in, monkeypatch):
    import threading
    import time

    monkeypatch.setenv("STAND_IN_HANG", "hybrid")
    plan = verify.plan(QuantizeDocument.open(model), stand_in)
    processes = []
    started = time.monotonic()

    class Watched(Cancel):
        def attach(self, process):
            processes.append(process)
            super().attach(process)

    cancel = Watched()

    def on_line(line):
        if len(processes) == 2 and "Start inference" in line:
            threading.Thread(target=cancel.cancel).start()

    with pytest.raises(verify.VerifyCancelled, match="during the quantized run"):
        verify.run(plan, Events(line=on_line), cancel)
    assert time.monotonic() - started < 30 and processes[1].wait() != 0


def test_per_output_figures_and_kinds(model, stand_in, capsys):
    assert main(["verify", str(model), "--pegasus", stand_in, "--iterations", "2", "--json",
                 "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    out = result["outputs"][OUT]
    assert out["kind"] == "class" and out["shape"] == [1, 10]  # a softmax feeds it
    f = [rotated(FLOAT, i) for i in range(2)]
    q = [rotated(HYBRID, i) for i in range(2)]
    figures = out["quantized"]
    assert figures["min_cosine"] == pytest.approx(min(cosine(a, b) for a, b in zip(f, q)))
    noise = sum(float(np.sum((a - b) ** 2)) for a, b in zip(f, q))
    signal = sum(float(np.sum(a ** 2)) for a in f)
    assert figures["sqnr_db"] == pytest.approx(10 * np.log10(signal / noise))
    assert figures["top1_agree"] == 2 and figures["resolution"]["distinct_float"] == 9
    assert out["plain_quantized"]["top1_agree"] == 0

    # as values: no top-1 anywhere, figures per input instead of the top-5
    assert main(["verify", str(model), "--pegasus", stand_in, "--iterations", "2", "--quiet",
                 "--output", "0=values"]) == 0
    table = capsys.readouterr().out
    assert "top-5 float" not in table and "(values: no top-5)" in table
    assert "  0 cosine" in table and "per output, quantized vs float over 2 input(s):" in table
    assert "per output, plain quantized vs float" in table
    assert "worst cosine" in table and "top-1" not in table
    assert main(["verify", str(model), "--pegasus", stand_in, "--output", "boxes=values"]) == 2
    assert "no model output 'boxes' (outputs: 0: @attach_output/out0_0:out0)" in \
        capsys.readouterr().err
    assert main(["verify", str(model), "--pegasus", stand_in, "--output", "0=boxes"]) == 2


CHECK = """import json, pathlib, sys
import numpy as np
float_dir, quant_dir = map(pathlib.Path, sys.argv[1:3])
outputs = json.loads((quant_dir / "outputs.json").read_text())
if outputs["run"] == "broken":
    sys.exit(4)
name = outputs["outputs"][0]["file"]
f = np.load(float_dir / "0" / (name + ".npy"))
q = np.load(quant_dir / "0" / (name + ".npy"))
assert f.shape == (1, 10) and f.dtype == np.float32
error = float(np.max(np.abs(f - q)))
print(outputs["run"], outputs["dataset"])
print(f"metric={error}")
sys.exit(0 if np.argmax(f) == np.argmax(q) else 1)
"""


def test_check_runs_on_each_quantized_run(model, stand_in, capsys, tmp_path):
    script = tmp_path / "check.py"
    script.write_text(CHECK)
    (model.parent / "dataset.txt").write_text("a.npy\nb.npy\n")
    check = f"{sys.executable} {script}"
    assert main(["verify", str(model), "--pegasus", stand_in, "--iterations", "2", "--json",
                 "--quiet", "--check", check]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["check"]["command"] == check
    assert result["check"]["quantized"]["acceptable"] is True
    assert result["check"]["quantized"]["metric"] == pytest.approx(0.05, abs=1e-6)
    assert result["check"]["plain_quantized"]["acceptable"] is False
    assert History(model).entries("verify")[-1].data["check"]["quantized"]["acceptable"]
    # the table, and exit 1 when the quantized run is not acceptable
    assert main(["verify", str(model), "--pegasus", stand_in, "--quiet", "--check", check]) == 0
    table = capsys.readouterr().out
    assert f"check {check}:" in table and "  quantized: acceptable (metric=0.05)" in table
    assert "  plain quantized: NOT acceptable (metric=0.3)" in table
    assert main(["verify", str(model), "--pegasus", stand_in, "--quiet", "--check",
                 f"{sys.executable} -c 'import sys; sys.exit(1)'"]) == 1
    capsys.readouterr()
    # a broken check is an error, never a verdict
    assert main(["verify", str(model), "--pegasus", stand_in, "--quiet", "--check",
                 f"{sys.executable} -c 'print(\"half way\"); import sys; sys.exit(4)'"]) == 2
    err = capsys.readouterr().err
    assert "the check exited with status 4" in err and "  half way" in err
    assert main(["verify", str(model), "--pegasus", stand_in, "--dry-run", "--check",
                 "mycheck --strict"]) == 0
    assert "# then, per quantized run: mycheck --strict FLOAT_DIR QUANT_DIR" in \
        capsys.readouterr().out
