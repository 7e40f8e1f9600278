"""The whole precision workflow against the real engine (acuitylite 6.57.1) on the sample model:
`quantize` (default, KLD, --compare), the carry-over across a rebuild, `export` after a hybrid
run, and `restore`. Engine runs are shared through module-scoped folders."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.logscan import strip_ansi
from quanted.core.engine.report import model_layers
from quanted.core.state.history import History

pytestmark = pytest.mark.engine

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
INPUTS = ["tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt",
          *sorted(p.name for p in SAMPLE_DATA.glob("input_*.npy"))]
QUANTIZE = "tinynet_uint8.quantize"
LAYER = "layer2/layer2.1/Add_output_0_12"  # worst entropy the engine does not pre-fill
GUIDE_KLD = ["--algorithm", "kl_divergence", "--batch-size", "100",
             "--divergence-first-quantize-bits", "12"]


def model_folder(tmp_path_factory, name: str, with_quantize: bool = False) -> Path:
    folder = tmp_path_factory.mktemp(name)
    for item in INPUTS + ([QUANTIZE, "entropy.txt"] if with_quantize else []):
        (folder / item).write_bytes((SAMPLE_DATA / item).read_bytes())
    return folder


def quanted(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def quantized(tmp_path_factory, pegasus):
    """`quanted quantize tinynet.json` in a folder with the model's inputs only."""
    folder = model_folder(tmp_path_factory, "quantize")
    status = main(["quantize", str(folder / "tinynet.json"), "--pegasus", shlex.join(pegasus)])
    assert status == 0
    return folder


def test_quantize_writes_the_same_bytes_as_the_direct_pegasus_command(quantized):
    # sample_data/ is what the direct command writes (tests/engine/test_engine_rebuild.py).
    assert (quantized / QUANTIZE).read_bytes() == (SAMPLE_DATA / QUANTIZE).read_bytes()
    assert (quantized / "entropy.txt").read_bytes() == (SAMPLE_DATA / "entropy.txt").read_bytes()
    attempt = [e for e in History(quantized / QUANTIZE).entries() if e.kind == "quantize"]
    assert attempt and attempt[0].data["algorithm"] == "normal"


def test_kld_passes_the_guides_options_and_a_fixed_batch_model_is_restored(
        tmp_path_factory, pegasus, capsys):
    folder = model_folder(tmp_path_factory, "kld", with_quantize=True)
    model, prefix = str(folder / "tinynet.json"), shlex.join(pegasus)
    status, out, _ = quanted(capsys, "quantize", model, "--kld", "--pegasus", prefix, "--dry-run")
    assert shlex.split(out.strip())[-6:] == GUIDE_KLD
    status, _, err = quanted(capsys, "quantize", model, "--kld", "--pegasus", prefix, "--json")
    log = strip_ansi(err)
    # The engine reads batches of 100 (the guide's size) and this model's Flatten is batch 1.
    assert "Shapes: [[100, 3, 32, 32]]" in log
    assert "--algorithm kl_divergence" in log  # quanted's log line with the exact command
    assert status not in (0, 130)
    assert "pass --batch-size 1" in err
    assert (folder / QUANTIZE).read_bytes() == (SAMPLE_DATA / QUANTIZE).read_bytes()
    assert (folder / "entropy.txt").read_bytes() == (SAMPLE_DATA / "entropy.txt").read_bytes()


def test_carry_over_keeps_the_users_entries_and_comments_across_a_kld_rebuild(
        tmp_path_factory, pegasus, capsys):
    folder = model_folder(tmp_path_factory, "carry", with_quantize=True)
    path = folder / QUANTIZE
    assert main(["add", str(path), LAYER, "--comment", "worst not pre-filled"]) == 0
    assert main(["add", str(path), "classifier/Gemm_output_0_2", "--qtype", "float16"]) == 0
    text = path.read_text().replace("customized_quantize_layers:\n",
                                    "customized_quantize_layers:\n  # reviewed by hand\n"
                                    "  gone_layer_99: float16\n")
    path.write_text(text)
    before = path.read_bytes()
    capsys.readouterr()
    status, out, err = quanted(capsys, "quantize", str(folder / "tinynet.json"), "--kld",
                               "--batch-size", "1", "--pegasus", shlex.join(pegasus), "--json")
    assert status == 0, err[-3000:]
    # TensorFlow's start-up lines stay out of sight and in the log file. A cold engine prints
    # them; the warm one imported TensorFlow once, before this command, and prints none.
    assert "external/local_xla" not in err
    (log,) = (folder / ".quanted" / "logs").glob("*.quantize.log")
    if "Unable to register cuFFT factory" in log.read_text():
        assert "TensorFlow start-up lines hidden" in err
    result = json.loads(out)
    assert result["carry_over"]["missing"] == {"gone_layer_99": "float16"}
    assert result["carry_over"]["carried"][LAYER] == "dynamic_fixed_point-i16"
    doc = QuantizeDocument.open(path)
    assert doc.customized[LAYER] == "dynamic_fixed_point-i16"
    assert doc.customized["classifier/Gemm_output_0_2"] == "float16"
    block = doc.block_text()
    assert f"  {LAYER}: dynamic_fixed_point-i16  # worst not pre-filled\n" in block
    assert "reviewed by hand" in block and "(was on gone_layer_99)" in block
    history = History(path)
    copy = next(e for e in history.entries() if e.kind == "before-quantize")
    assert history.path_of(copy).read_bytes() == before
    assert history.entries()[-1].data["algorithm"] == "kl_divergence"


@pytest.fixture(scope="module")
def hybrid_then_export(quantized, pegasus):
    """On the quantized folder: add a layer with a comment, `quanted hybrid`, `quanted export`."""
    path = quantized / QUANTIZE
    assert main(["add", str(path), LAYER, "--comment", "worst not pre-filled"]) == 0
    user_block = QuantizeDocument.open(path).block_text()
    assert main(["hybrid", str(path), "--pegasus", shlex.join(pegasus)]) == 0
    after_hybrid = path.read_bytes()
    assert main(["export", str(path), "--pegasus", shlex.join(pegasus)]) == 0
    return path, user_block, after_hybrid


def test_export_after_a_hybrid_run_writes_an_ovxlib_case_from_the_quantize_json(
        hybrid_then_export):
    path, _, _ = hybrid_then_export
    case = path.parent / "tinynet_uint8_export"
    names = {p.name for p in case.iterdir()}
    assert {"main.c", "vnn_tinynet.c", "vnn_tinynet.h", "tinynet.export.data"} <= names
    converters = [name for name in model_layers(path.with_name(QUANTIZE + ".json"))
                  if "_to_" in name]
    assert converters
    source = (case / "vnn_tinynet.c").read_text()
    lids = set(re.findall(r"lid\s+- (\S+)", source))
    assert set(converters) <= lids  # only the hybrid model has these layers


def test_export_refuses_a_full_folder_and_a_stale_model(hybrid_then_export, pegasus, capsys):
    path, _, _ = hybrid_then_export
    status, _, err = quanted(capsys, "export", str(path), "--pegasus", shlex.join(pegasus))
    assert status == 1 and "is not an empty folder" in err


def test_export_after_changing_the_list_is_refused_naming_the_change(
        hybrid_then_export, pegasus, capsys):
    """The file was saved again after the real hybrid run (comments put back), so it is newer
    than its quantize.json: that alone is not stale; a changed list is."""
    path, _, _ = hybrid_then_export
    fresh = str(path.parent / "fresh_export")
    status, _, err = quanted(capsys, "export", str(path), "--output", fresh, "--dry-run",
                             "--pegasus", shlex.join(pegasus))
    assert status == 0, err
    assert main(["add", str(path), "classifier/Gemm_output_0_2", "--qtype", "float16"]) == 0
    status, _, err = quanted(capsys, "export", str(path), "--output", fresh, "--dry-run",
                             "--pegasus", shlex.join(pegasus))
    assert status == 1
    assert ("retyped classifier/Gemm_output_0_2 (dynamic_fixed_point-i16 -> float16); run "
            "`quanted hybrid tinynet_uint8.quantize` (ctrl+r in the editor) first" in err)
    assert main(["add", str(path), "classifier/Gemm_output_0_2", "--qtype",
                 "dynamic_fixed_point-i16"]) == 0
    assert quanted(capsys, "export", str(path), "--output", fresh, "--dry-run",
                   "--pegasus", shlex.join(pegasus))[0] == 0


def test_restore_gives_back_an_attempts_list_byte_for_byte(hybrid_then_export, capsys):
    path, user_block, after_hybrid = hybrid_then_export
    attempts = {e.kind: e.id for e in History(path).entries()}
    assert main(["restore", str(path), attempts["quantize"]]) == 0
    doc = QuantizeDocument.open(path)
    sample = QuantizeDocument.open(SAMPLE_DATA / QUANTIZE)
    assert doc.block_text() == sample.block_text()  # the engine's list, as quantize wrote it
    assert main(["restore", str(path), attempts["hybrid"]]) == 0
    assert QuantizeDocument.open(path).block_text() == user_block  # with its comment
    capsys.readouterr()
    assert main(["history", str(path), "--json"]) == 0
    kinds = [a["kind"] for a in json.loads(capsys.readouterr().out)]
    assert kinds == ["quantize", "hybrid"]
    path.write_bytes(after_hybrid)


def test_compare_verifies_both_sides_and_writes_the_pick(tmp_path_factory, pegasus, capsys):
    folder = model_folder(tmp_path_factory, "compare")
    status, out, err = quanted(capsys, "quantize", str(folder / "tinynet.json"), "--compare",
                               "--batch-size", "1", "--verify-iterations", "1", "--pick", "kld",
                               "--pegasus", shlex.join(pegasus), "--json")
    assert status == 0, err[-3000:]
    result = json.loads(out)
    assert result["picked"] == "kld"
    for side in ("default", "kld"):
        summary = result["compare"][side]["summary"]
        assert summary["count"] == 1 and 0 < summary["mean_cosine"] <= 1
    assert "--algorithm" in result["compare"]["kld"]["command"]
    assert "mean cosine" in err  # the figures side by side (stderr under --json)
    assert (folder / QUANTIZE).is_file() and (folder / "entropy.txt").is_file()
    assert not [p for p in folder.iterdir() if p.name.startswith("quanted-compare")]
    last = History(folder / QUANTIZE).entries()[-1]
    assert last.kind == "quantize" and last.data["algorithm"] == "kl_divergence"
