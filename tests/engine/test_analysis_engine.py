"""Per-layer analysis against the real engine, on the bundled sample and on `sidenet`, a second
engine-made model (tests/engine/build_sidenet.py: depthwise conv, relu6, residual add, permute,
ids alike once `/` becomes `_`).

Every figure quanted reports is recomputed here with numpy from the engine's own dump files
(independently of quanted's readers) and must agree to 1e-6. Engine runs are shared through
module-scoped fixtures; a counting wrapper around pegasus shows what the cache saves.
"""
import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from tests.engine.sidenet import engine, imported

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent
SAMPLE_DATA = HERE.parents[1] / "sample_data"
CLAMPING = {"relu", "relu6", "relun", "clip"}
TOL = 1e-6


_engine = engine


def _counting(pegasus, folder):
    """A pegasus wrapper that logs each invocation's arguments, one line each (kept in a folder
    beside `folder`, so `folder` holds only the model's files)."""
    folder = folder.parent / (folder.name + "-tools")
    folder.mkdir(exist_ok=True)
    log = folder / "engine-calls.log"
    script = folder / "counting-pegasus"
    script.write_text(f"#!/bin/sh\necho \"$*\" >> {shlex.quote(str(log))}\n"
                      f"exec {shlex.join(pegasus)} \"$@\"\n")
    script.chmod(0o755)
    return str(script), log


def _calls(log):
    return log.read_text().splitlines() if log.is_file() else []


# -- an independent reference: numpy on the engine's probe dumps -------------------------------


def _probe_arrays(folder, iterations):
    """(layer, port) -> [array per input] from LABEL/probes.json and LABEL/dumps/."""
    found = {}
    names = sorted(p.name for p in (folder / "dumps").iterdir())
    for uid, layer, port in json.loads((folder / "probes.json").read_text()):
        per = []
        for i in range(iterations):
            pattern = re.compile(rf"^iter_{i}_quanted_probe_{uid}_out0_[\d_]+\.npy$")
            matches = [n for n in names if pattern.match(n)]
            assert len(matches) <= 1
            if matches:
                per.append(np.load(folder / "dumps" / matches[0]))
        if per:
            assert len(per) == iterations
            found[(layer, port)] = per
    return found


def _saturation(quantize_text, key):
    """Where the tensor's quantized values saturate: min/max for asymmetric_affine u8, the i16
    range scaled by 2^-fl for dynamic_fixed_point."""
    block = re.search(rf"^  '{re.escape(key)}':\n((?:    .*\n)+)", quantize_text,
                      re.MULTILINE)
    if block is None:
        return None
    fields = dict(re.findall(r"^    (\w+): (\S+)$", block.group(1), re.MULTILINE))
    if fields.get("quantizer") == "dynamic_fixed_point":
        assert fields["qtype"] == "i16"
        step = 2.0 ** -int(fields["fl"])
        return -32768 * step, 32767 * step
    assert fields.get("quantizer") == "asymmetric_affine"
    return float(fields["min_value"]), float(fields["max_value"])


def _cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _reference(quantize, model_json, float_dir, quant_dir, iterations):
    layers = json.loads(model_json.read_text())["Layers"]
    text = quantize.read_text()
    consumers = {}
    producers = {}
    for layer_id, layer in layers.items():
        for ref in layer.get("inputs", []):
            tensor = ref[1:].rsplit(":", 1)
            consumers.setdefault(tuple(tensor), []).append(layer["op"])
            producers.setdefault(layer_id, []).append(tuple(tensor))
    floats = _probe_arrays(float_dir, iterations)
    quants = _probe_arrays(quant_dir, iterations)
    for tensor in list(quants):
        source = tensor
        while source not in floats and len(producers.get(source[0], [])) == 1:
            source = producers[source[0]][0]  # a converter: identity in float
        if source in floats:
            floats[tensor] = floats[source]
    out = {}
    for tensor in quants.keys() & floats.keys():
        ops = consumers.get(tensor, [])
        rng = (_saturation(text, "@{}:{}".format(*tensor)) if ops and set(ops) <= CLAMPING
               else None)
        cos, raw, signal, noise, worst = [], [], 0.0, 0.0, 0.0
        for f, q in zip(floats[tensor], quants[tensor]):
            f = f.astype(np.float64).ravel()
            q = q.astype(np.float64).ravel()
            ref = np.clip(f, *rng) if rng else f
            cos.append(_cos(ref, q))
            raw.append(_cos(f, q))
            signal += float(np.sum(ref * ref))
            noise += float(np.sum((ref - q) ** 2))
            worst = max(worst, float(np.max(np.abs(ref - q))))
        out[tensor] = {"cosine": np.mean(cos), "cosine_min": min(cos), "cosine_raw": np.mean(raw),
                       "clamped": rng is not None, "clamp_range": rng,
                       "sqnr_db": 10 * np.log10(signal / noise) if noise else None,
                       "max_abs_error": worst}
    for tensor, figures in out.items():
        feeding = producers.get(tensor[0], [])
        if not feeding:
            figures["drop"] = 1.0 - figures["cosine"]
        elif all(p in out for p in feeding):
            figures["drop"] = min(out[p]["cosine"] for p in feeding) - figures["cosine"]
        else:
            figures["drop"] = None
    return out


def _assert_matches(result, reference):
    assert {(f.layer, f.port) for f in result.layers} == set(reference)
    for item in result.layers:
        want = reference[(item.layer, item.port)]
        where = f"{item.layer}:{item.port}"
        assert item.clamped == want["clamped"], where
        for name in ("cosine", "cosine_min", "cosine_raw", "max_abs_error", "drop"):
            got, expected = getattr(item, name), want[name]
            if expected is None:
                assert got is None, (where, name)
            else:
                assert abs(got - expected) <= TOL, (where, name, got, expected)
        if want["sqnr_db"] is None:
            assert item.sqnr_db is None, where
        else:
            assert abs(item.sqnr_db - want["sqnr_db"]) <= TOL * max(1.0, abs(want["sqnr_db"]))
        if want["clamped"]:
            assert item.clamp_range == pytest.approx(want["clamp_range"], abs=0)


# -- sidenet ---------------------------------------------------------------------------------



def _plan(quantize: Path, pegasus: str, iterations: int | None = None) -> analysis.AnalysisPlan:
    return analysis.plan(QuantizeDocument.open(quantize), iterations, pegasus)

@pytest.fixture(scope="module")
def sidenet(pegasus, tmp_path_factory):
    folder = imported(pegasus, tmp_path_factory.mktemp("sidenet"))
    _engine(pegasus, ["quantize", "--model", "sidenet.json", "--model-data", "sidenet.data",
                      "--with-input-meta", "sidenet_inputmeta.yml", "--rebuild",
                      "--model-quantize", "sidenet_uint8.quantize", "--quantizer",
                      "asymmetric_affine", "--qtype", "uint8", "--iterations", "3"], folder)
    return folder


@pytest.fixture(scope="module")
def sidenet_analysis(pegasus, sidenet):
    wrapper, log = _counting(pegasus, sidenet)
    kept = sidenet.parent / (sidenet.name + "-dumps")
    before = sorted(p.name for p in sidenet.iterdir())
    result = analysis.run(_plan(sidenet / "sidenet_uint8.quantize", wrapper), keep_dumps=kept)
    after = sorted(p.name for p in sidenet.iterdir())
    return result, kept, _calls(log), before, after


def test_sidenet_figures_match_numpy_on_the_engine_dumps(sidenet, sidenet_analysis):
    result, kept, calls, before, after = sidenet_analysis
    assert len(calls) == 2 and result.engine_runs == 2 and result.iterations == 3
    assert set(after) - set(before) == {".quanted"}  # nothing beside the user's files
    cached = [p for p in (sidenet / ".quanted" / "analysis").glob("float-*")]
    assert len(cached) == 1
    reference = _reference(sidenet / "sidenet_uint8.quantize", sidenet / "sidenet.json",
                           cached[0], kept / "quantized", 3)
    _assert_matches(result, reference)

    layers = json.loads((sidenet / "sidenet.json").read_text())["Layers"]
    expected = {lid for lid, layer in layers.items() if layer["op"] != "output"}
    assert set(result.by_layer()) == expected
    ops = {lid: layers[lid]["op"] for lid in expected}
    assert "permute" in ops.values() and "add" in ops.values() and "relun" in ops.values()
    figures = result.by_layer()
    dw = next(lid for lid in expected if lid.startswith("blocks/blocks.0/dw/"))
    assert layers[dw]["parameters"]["group_number"] == 8  # depthwise
    assert figures[dw].clamped  # feeds relu6 (relun): the clamp trap
    assert figures["stem/stem.0/Conv_output_0_11"].clamped  # feeds relu
    assert not figures["blocks/blocks.0/Add_output_0_8"].clamped
    assert not any(f.converter for f in result.layers)


def test_ids_alike_after_slash_to_underscore_map_to_their_own_layer(sidenet, sidenet_analysis):
    result, *_ = sidenet_analysis
    figures = result.by_layer()
    a, b = "head/conv/Conv_output_0_6", "head_conv/Conv_output_0_7"
    assert a.replace("/", "_")[:-1] == b.replace("/", "_")[:-1]
    assert a in figures and b in figures
    assert figures[a].producers == figures[b].producers == ["blocks/blocks.0/Add_output_0_8"]
    assert figures["head/Mul_output_0_5"].producers == [a, b]
    assert figures[a].max_abs_error != figures[b].max_abs_error


def test_probe_dumps_equal_pegasus_dump_files(pegasus, sidenet, sidenet_analysis, tmp_path):
    """The probe outputs (all inputs in one run) hold, for the first input, exactly the values
    `pegasus dump` writes per layer; dump files named `<id, / as _>_<port>_nchw_<shape>.npy`
    map to exactly one layer each, the look-alike ids included."""
    _, kept, *_ = sidenet_analysis
    cached = next((sidenet / ".quanted" / "analysis").glob("float-*"))
    for label, probe_dir, extra in (
            ("float", cached, ["--dtype", "float32"]),
            ("quantized", kept / "quantized",
             ["--dtype", "quantized", "--model-quantize", "sidenet_uint8.quantize"])):
        out = tmp_path / label
        _engine(pegasus, ["dump", "--model", "sidenet.json", "--model-data", "sidenet.data",
                          "--with-input-meta", "sidenet_inputmeta.yml", "--output-dir",
                          str(out), "--save-file-type", "npy", *extra], sidenet)
        probes = _probe_arrays(probe_dir, 3)
        files = [p.name for p in out.iterdir()]
        for (layer, port), arrays in probes.items():
            prefix = layer.replace("/", "_") + f"_{port}_nchw_"
            named = [n for n in files if n.startswith(prefix)
                     and re.fullmatch(r"[\d_]+\.npy", n[len(prefix):])]
            assert len(named) == 1, (label, layer, named)
            dumped = np.load(out / named[0])
            probe = arrays[0]
            same = np.array_equal(probe.ravel(), dumped.ravel()) or (
                probe.ndim == 4 and np.array_equal(probe.transpose(0, 3, 1, 2).ravel(),
                                                   dumped.ravel()))
            assert same, (label, layer, probe.shape, dumped.shape)


# -- the sample: figures, the CLI, the cache, a hybrid run -------------------------------------


@pytest.fixture(scope="module")
def sample_story(pegasus, tmp_path_factory):
    """One walk through the cache on a copy of sample_data/, recording what each step did."""
    folder = tmp_path_factory.mktemp("sample")
    for path in SAMPLE_DATA.iterdir():
        if path.is_file():
            shutil.copy2(path, folder / path.name)
    wrapper, log = _counting(pegasus, folder)
    quantize = folder / "tinynet_uint8.quantize"
    kept = folder.parent / (folder.name + "-dumps")
    story = {"folder": folder, "quantize": quantize, "kept": kept}
    story["first"] = analysis.run(_plan(quantize, wrapper), keep_dumps=kept)
    story["calls_first"] = _calls(log)
    story["float_dir"] = next((folder / ".quanted" / "analysis").glob("float-*"))
    story["reference"] = _reference(quantize, folder / "tinynet.json", story["float_dir"],
                                    kept / "quantized", 4)

    def cli(*args):
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(args))
        return status, out.getvalue(), err.getvalue()

    story["cli_json"] = cli("analyze", str(quantize), "--pegasus", wrapper, "--json")
    story["cli_table"] = cli("analyze", str(quantize), "--pegasus", wrapper, "--sort", "cosine")
    story["calls_cached"] = _calls(log)
    story["layers_current"] = cli("layers", str(quantize), "--json")
    story["remove"] = cli("remove", str(quantize), "Flatten_output_0_3")
    story["latest_after_edit"] = analysis.load_latest(quantize)
    story["current_after_edit"] = analysis.load_current(quantize)
    story["layers_stale"] = cli("layers", str(quantize), "--json")
    story["cli_after_edit"] = cli("analyze", str(quantize), "--pegasus", wrapper, "--json")
    story["calls_after_edit"] = _calls(log)
    # A hybrid run (the engine's own pre-filled layers, put back): converters, i16 tensors.
    story["add"] = cli("add", str(quantize), "Flatten_output_0_3")
    story["hybrid"] = cli("hybrid", str(quantize), "--pegasus", wrapper)
    hybrid_kept = folder.parent / (folder.name + "-hybrid-dumps")
    story["hybrid_result"] = analysis.run(_plan(quantize, wrapper), keep_dumps=hybrid_kept)
    story["calls_after_hybrid"] = _calls(log)
    story["hybrid_reference"] = _reference(quantize, folder / "tinynet_uint8.quantize.json",
                                           story["float_dir"], hybrid_kept / "quantized", 4)
    return story


def test_sample_figures_match_numpy_and_clamp_trap(sample_story):
    first = sample_story["first"]
    assert len(sample_story["calls_first"]) == 2 and first.iterations == 4
    _assert_matches(first, sample_story["reference"])
    figures = first.by_layer()
    # A conv feeding a ReLU: quantized to the ReLU's range. Raw, it looks broken; clamped, not.
    conv = figures["layer1/layer1.0/conv1/Conv_output_0_34"]
    assert conv.clamped and conv.clamp_range[0] == 0.0
    assert conv.cosine > 0.999 and conv.cosine_raw < 0.9
    assert not figures["layer3/layer3.0/conv2/Conv_output_0_7"].clamped  # feeds an Add


def test_cli_json_shape_and_a_second_analyze_runs_no_engine(sample_story):
    status, out, err = sample_story["cli_json"]
    assert status == 0, err
    data = json.loads(out)
    assert set(data) == {"file", "iterations", "model", "layers", "outputs", "configuration"}
    assert data["configuration"].startswith("the file's table: ")
    [(tensor, output)] = data["outputs"].items()  # the sample's one output, verify's figures
    assert output["tensor"] == tensor and output["count"] == 4 and "resolution" in output
    assert data["iterations"] == 4 and data["model"].endswith("tinynet.json")
    keys = {"layer", "port", "cosine", "cosine_min", "cosine_raw", "clamped", "sqnr_db",
            "max_abs_error", "drop", "max_entropy", "customized", "converter"}
    assert all(set(row) == keys for row in data["layers"])
    drops = [row["drop"] for row in data["layers"] if row["drop"] is not None]
    assert drops == sorted(drops, reverse=True)  # worst drop first by default
    by_layer = {row["layer"]: row for row in data["layers"]}
    first = sample_story["first"].by_layer()
    assert by_layer["classifier/Gemm_output_0_2"]["cosine"] == first[
        "classifier/Gemm_output_0_2"].cosine  # full floats, not rounded
    assert by_layer["layer3/layer3.0/conv2/Conv_output_0_7"]["customized"] == \
        "dynamic_fixed_point-i16"
    assert sample_story["calls_cached"] == sample_story["calls_first"]  # no engine run
    status, table, _ = sample_story["cli_table"]
    lines = table.splitlines()
    assert status == 0 and lines[0].split()[:3] == ["LAYER", "COSINE", "DROP"]
    cosines = [float(line.split()[1].rstrip("c")) for line in lines[1:] if " " in line
               and re.match(r"^\S+\s+\d", line)]
    assert cosines == sorted(cosines)


def test_layers_shows_analysis_columns_only_while_current(sample_story):
    rows = json.loads(sample_story["layers_current"][1])
    conv = next(r for r in rows if r["layer"] == "layer3/layer3.0/conv2/Conv_output_0_7")
    assert conv["cosine"] == sample_story["first"].by_layer()[conv["layer"]].cosine
    assert "drop" in conv and "clamped" in conv
    stale_rows = json.loads(sample_story["layers_stale"][1])
    assert all("cosine" not in r for r in stale_rows)


def test_after_an_edit_the_analysis_is_stale_and_only_the_quantized_run_repeats(sample_story):
    latest = sample_story["latest_after_edit"]
    assert latest is not None and not latest.current
    assert sample_story["current_after_edit"] is None
    before, after = sample_story["calls_cached"], sample_story["calls_after_edit"]
    new = after[len(before):]
    assert len(new) == 1 and "--dtype quantized" in new[0]
    status, out, err = sample_story["cli_after_edit"]
    assert status == 0, err
    rows = {row["layer"]: row for row in json.loads(out)["layers"]}
    assert rows["Flatten_output_0_3"]["customized"] is None  # the edit is seen


def test_ids_equal_after_slash_to_underscore_cannot_reach_the_engine(pegasus, sidenet, tmp_path):
    """Two ids equal once `/` becomes `_` end in the same `_<uid>`; the engine refuses such a
    model (ids must have unique uids), so dump names can be alike but never equal. The failure
    comes back as AnalysisFailed naming the run and the engine's status."""
    folder = tmp_path / "dup"
    folder.mkdir()
    for name in ("sidenet.data", "sidenet_inputmeta.yml", "dataset.txt", "input_0.npy",
                 "input_1.npy", "input_2.npy", "sidenet_uint8.quantize"):
        shutil.copy2(sidenet / name, folder / name)
    model = json.loads((sidenet / "sidenet.json").read_text())
    twin = dict(model["Layers"]["head/conv/Conv_output_0_6"])
    model["Layers"]["head_conv/Conv_output_0_6"] = twin  # folds to head_conv_Conv_output_0_6 too
    (folder / "sidenet.json").write_text(json.dumps(model))
    with pytest.raises(analysis.AnalysisFailed) as caught:
        analysis.run(_plan(folder / "sidenet_uint8.quantize", shlex.join(pegasus), 1))
    assert caught.value.run.label == "float" and caught.value.status != 0
    assert caught.value.exit_code == caught.value.status
    assert any("Duplicated uid" in line for line in caught.value.tail), caught.value.tail


def test_after_a_hybrid_run_converters_and_i16_tensors_match_numpy(sample_story):
    status, _, err = sample_story["hybrid"]
    assert status == 0, err
    result = sample_story["hybrid_result"]
    new = sample_story["calls_after_hybrid"][len(sample_story["calls_after_edit"]):]
    assert len(new) == 2 and new[0].startswith("quantize") and "--dtype quantized" in new[1]
    assert result.model.name == "tinynet_uint8.quantize.json"
    _assert_matches(result, sample_story["hybrid_reference"])
    figures = result.by_layer()
    converters = [f for f in result.layers if f.converter]
    assert converters and all("_to_" in f.layer for f in converters)
    add = figures["layer3/layer3.0/Add_output_0_6"]  # i16 now, feeding a relu
    assert add.clamped and add.clamp_source == "qtype" and add.clamp_range[0] < 0
    relu = figures["layer3/layer3.0/relu_1/Relu_output_0_5"]
    assert abs(add.cosine - relu.cosine) < 0.01  # the relu sees what the clamp assumed
    assert figures["output_1"].cosine > 0.99  # the hybrid model agrees with float again
