"""The real engine reproduces sample_data/ byte for byte, and quanted reads what it writes."""
import re
import subprocess

import pytest

from tests.conftest import SAMPLE


ENGINE_LOG_LINE = re.compile(r"^(?:\x1b\[[0-9;]*m)?([DIWE]) \d\d:\d\d:\d\d ")

# The command scripts/make-sample-data ran to make sample_data/.
QUANTIZE_ARGS = [
    "quantize", "--model", "tinynet.json", "--model-data", "tinynet.data",
    "--with-input-meta", "tinynet_inputmeta.yml", "--rebuild",
    "--model-quantize", "tinynet_uint8.quantize",
    "--quantizer", "asymmetric_affine", "--qtype", "uint8", "--compute-entropy",
    "--iterations", "4",
]


def engine_levels(text):
    return [m.group(1) for m in map(ENGINE_LOG_LINE.match, text.splitlines()) if m]


@pytest.mark.engine
def test_rebuild_reproduces_sample_and_quanted_reads_it(pegasus, sample_model):
    proc = subprocess.run(pegasus + QUANTIZE_ARGS, cwd=sample_model, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    log = proc.stdout
    assert proc.returncode == 0, log[-4000:]
    levels = engine_levels(log)
    assert "I" in levels, "no engine log lines seen:\n" + log[-4000:]
    assert "E" not in levels, log[-4000:]

    produced_quantize = sample_model / "tinynet_uint8.quantize"
    produced_entropy = sample_model / "entropy.txt"  # the engine writes it into its cwd
    assert produced_quantize.read_bytes() == (SAMPLE / "tinynet_uint8.quantize").read_bytes()
    assert produced_entropy.read_bytes() == (SAMPLE / "entropy.txt").read_bytes()

    from quanted.core.document.model import QuantizeDocument
    from quanted.core.format.entropy import EntropyReport

    doc = QuantizeDocument.open(produced_quantize)
    keys = re.findall(r"^  '@(.+):[^:']+':$", produced_quantize.read_text(), re.M)
    assert keys, "no tensor keys in the produced file"
    assert set(keys) <= set(doc.layer_ids)
    assert "layer3/layer3.0/conv2/Conv_output_0_7" in doc.layer_ids  # the outlier conv

    report = EntropyReport.read(produced_entropy)
    lines = [ln for ln in produced_entropy.read_text().splitlines() if ln.strip()]
    assert len(report) == len(lines) > 0
