"""Compare the float and quantized probe dumps of one analysis, layer by layer, and the model's
own outputs as verify does (compare_outputs: output_figures.OutputFigures, the same functions).

Which float tensor a quantized one is compared with (itself, or for a converter the tensor it
converts), and which reference (clamped when every consumer of the tensor clamps: see
layer_figures.clamp_range), are decided here from the model .json and the .quantize file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import probes as probe_mod
from quanted.core.engine.output_figures import OutputFigures, proven_kinds
from quanted.core.engine.outputs import OutputsError, find_dumps, model_io
from quanted.core.engine.layer_figures import (
    CLAMPING_OPS,
    LayerFigures,
    clamp_range,
    figures,
    set_drops,
)
from quanted.core.engine.model_json import read_model
from quanted.core.format.keys import split_tensor_key


def compare_dumps(quantize: Path, model_json: Path, plain_model: Path, n: int,
                  float_folder: Path, quant_folder: Path) -> list[LayerFigures]:
    """Figures for every layer output both runs dumped (LABEL/probes.json, LABEL/dumps/), in
    the quantized run's model order. `plain_model` is NAME.json: a layer only `model_json`
    has is a converter a hybrid run inserted."""
    float_probes = probe_mod.read_probe_list(float_folder)
    quant_probes = probe_mod.read_probe_list(quant_folder)
    float_files = {(p.layer, p.port): files for p, files in
                   probe_mod.probe_files(float_folder / "dumps", float_probes, n).items()}
    quant_files = probe_mod.probe_files(quant_folder / "dumps", quant_probes, n)
    model = read_model(model_json)["Layers"]
    plain = set(read_model(plain_model)["Layers"])
    inputs, consumers = _edges(model)
    doc = QuantizeDocument.open(quantize)
    known = set(doc.tensor_keys)
    layers = []
    for probe in quant_probes:
        source = _float_source((probe.layer, probe.port), float_files, inputs, plain)
        if probe not in quant_files or source is None:
            continue
        key = f"@{probe.layer}:{probe.port}"
        ops = consumers.get((probe.layer, probe.port), [])
        clamp = None
        if ops and all(op in CLAMPING_OPS for op in ops) and key in known:
            clamp = clamp_range(doc.tensor_fields(key))
        item = figures(probe.layer, probe.port,
                       [probe_mod.read_npy(p) for p in float_files[source]],
                       [probe_mod.read_npy(p) for p in quant_files[probe]], clamp)
        item.converter = probe.layer not in plain
        layers.append(item)
    set_drops(layers, inputs)
    return layers


def compare_outputs(plain_model: Path, n: int, float_folder: Path, quant_folder: Path
                    ) -> dict[str, OutputFigures]:
    """Per model output (NAME.json's `op: output` layers), over the n inputs: the figures verify
    gives, from the `.npy` files the engine writes for the model's own outputs beside the
    probes' (LABEL/dumps/; measured on acuitylite 6.57.1: equal, bit for bit, to the `.tensor`
    files of verify's runs). Kinds are the ones the model proves (no `--output` override).
    OutputsError when an output was not dumped for every input."""
    keys, _ = model_io(plain_model)
    values: dict[str, dict[str, list[np.ndarray]]] = {}
    for label, folder in (("float", float_folder), ("quantized", quant_folder)):
        dumps = find_dumps(folder / "dumps", keys, suffix=".npy")
        values[label] = {}
        for key, found in dumps.items():
            if [d.iteration for d in found] != list(range(n)):
                raise OutputsError(f"the {label} run dumped {key} for {len(found)} of {n} "
                                   "inputs", folder)
            values[label][key] = [probe_mod.read_npy(d.path) for d in found]
    shapes = {key: tuple(values["float"][key][0].shape) for key in keys}
    kinds = proven_kinds(plain_model, shapes)
    return {key: OutputFigures.compared(key, kinds[key], values["float"][key],
                                        values["quantized"][key]) for key in keys}


def _float_source(tensor: tuple[str, str], float_files: dict, inputs: dict,
                  plain: set[str]) -> tuple[str, str] | None:
    """The float tensor to compare a quantized one with: itself, or for a converter a hybrid
    run inserted (not in NAME.json, one input; float through it is the identity) its input's."""
    seen = set()
    while tensor not in float_files:
        feeding = inputs.get(tensor[0], [])
        if tensor[0] in plain or len(feeding) != 1 or tensor in seen:
            return None
        seen.add(tensor)
        tensor = feeding[0]
    return tensor


Tensor = tuple[str, str]  # (layer id, port)


def _edges(layers: dict) -> tuple[dict[str, list[Tensor]], dict[Tensor, list[str]]]:
    """Each layer's input tensors as (layer, port), and each tensor's consumers' ops."""
    inputs: dict[str, list[tuple[str, str]]] = {}
    consumers: dict[tuple[str, str], list[str]] = {}
    for layer_id, layer in layers.items():
        if not isinstance(layer, dict):
            continue
        for ref in layer.get("inputs") or []:
            if not isinstance(ref, str):
                continue
            tensor = split_tensor_key(ref)
            inputs.setdefault(layer_id, []).append(tensor)
            consumers.setdefault(tensor, []).append(str(layer.get("op")))
    return inputs, consumers
