"""Every layer's output for N inputs from ONE engine run: probe outputs on a copy of the model.

`pegasus dump` writes each layer's output once per run and overwrites it on every iteration
(docs/format.md section 9), so N inputs would cost N engine starts per model. `pegasus inference
--postprocess-file` with `dump_results: {file_type: npy}` writes every model output per
iteration instead (`iter_I_<folded output id>_<port>_<shape>.npy`). So the engine runs a copy of
the model .json (in a temporary folder) where each layer output `@L:P` also feeds an extra
`op: output` layer, a "probe" with an id this module chooses: `quanted_probe_<uid>`, uids
above every uid in the model (the engine requires ids `<name>_<uid>` with unique uids).

A dump file is mapped back to its layer through the probe's uid, never through its name, so
layer ids that look alike once `/` becomes `_` cannot be confused. Measured on acuitylite
6.57.1 (tests/engine/test_analysis_engine.py): a probe's values equal, bit for bit, what
`pegasus dump` writes for that layer and input, in the float and in the quantized run. Probe
files hold the engine's internal layout (NHWC where `pegasus dump` converts to NCHW); every
figure compares float and quantized element by element in the same layout, so it does not
matter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quanted.core.engine.model_json import read_model
from quanted.core.errors import QuantedError

PROBE_NAME = "quanted_probe"
POSTPROCESS = "postprocess:\n  acuity_postprocs:\n    dump_results:\n      file_type: npy\n"
_UID = re.compile(r"_(\d+)$")
_FILE = re.compile(r"^iter_(\d+)_" + PROBE_NAME + r"_(\d+)_out0_\d+(?:_\d+)*\.npy$")


class DumpError(QuantedError):
    """The probe dumps are missing or unreadable (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Probe:
    uid: int
    layer: str  # the layer id whose output it reads
    port: str

    @property
    def id(self) -> str:
        return f"{PROBE_NAME}_{self.uid}"

    def to_json(self) -> list:
        return [self.uid, self.layer, self.port]


def layer_ports(layer: object) -> list[str]:
    ports = layer.get("outputs") if isinstance(layer, dict) else None
    return [p for p in ports if isinstance(p, str)] if isinstance(ports, list) else ["out0"]


def add_probes(model: dict) -> list[Probe]:
    """Add a probe to every output of every layer except `op: output` ones (they repeat their
    input); returns the probes in graph (file) order. Changes `model` in place."""
    layers: dict = model["Layers"]
    uids = [int(m.group(1)) for lid in layers if (m := _UID.search(lid))]
    uid = max(uids, default=0) + 1
    probes = []
    for layer_id, layer in list(layers.items()):
        if not isinstance(layer, dict) or layer.get("op") == "output":
            continue
        for port in layer_ports(layer):
            probe = Probe(uid, layer_id, port)
            layers[probe.id] = {"name": PROBE_NAME, "op": "output", "parameters": {},
                                "inputs": [f"@{layer_id}:{port}"], "outputs": ["out0"]}
            probes.append(probe)
            uid += 1
    return probes


def write_probe_files(model_json: Path, folder: Path) -> tuple[Path, Path, list[Probe]]:
    """The probed model copy and the postprocess file, written into `folder`."""
    model = read_model(model_json)
    probes = add_probes(model)
    folder.mkdir(parents=True, exist_ok=True)
    probed = folder / f"probed_{model_json.name}"
    probed.write_text(json.dumps(model, indent=1), encoding="utf-8")
    postprocess = folder / "dump_npy.yml"
    postprocess.write_text(POSTPROCESS, encoding="utf-8")
    (folder / "probes.json").write_text(json.dumps([p.to_json() for p in probes]),
                                        encoding="utf-8")
    return probed, postprocess, probes


def read_probe_list(folder: Path) -> list[Probe]:
    try:
        raw = json.loads((folder / "probes.json").read_text(encoding="utf-8"))
        return [Probe(int(uid), str(layer), str(port)) for uid, layer, port in raw]
    except (OSError, ValueError, TypeError) as exc:
        raise DumpError(f"cannot read the probe list: {exc}", folder) from None


def probe_files(folder: Path, probes: list[Probe], iterations: int) -> dict[Probe, list[Path]]:
    """Each probe's dump file per iteration (0..iterations-1). A probe with no file at all is
    left out (the engine did not reach it); one with some iterations missing is an error."""
    by_uid = {p.uid: p for p in probes}
    found: dict[int, dict[int, Path]] = {}
    for path in folder.iterdir():
        match = _FILE.match(path.name)
        if match is None or int(match.group(2)) not in by_uid:
            continue  # the model's own outputs, the inputs, `.qnt.npy` copies
        found.setdefault(int(match.group(2)), {})[int(match.group(1))] = path
    out: dict[Probe, list[Path]] = {}
    for uid, files in found.items():
        missing = [i for i in range(iterations) if i not in files]
        if missing:
            probe = by_uid[uid]
            raise DumpError(f"the engine dumped {probe.layer}:{probe.port} for "
                            f"{len(files)} of {iterations} inputs", folder)
        out[by_uid[uid]] = [files[i] for i in range(iterations)]
    return out


_NPY_HEADER = re.compile(
    rb"^\{'descr': '(?P<descr>[<>|=][a-z]\d+)', 'fortran_order': False, "
    rb"'shape': \((?P<shape>[\d, ]*)\), \}\s*$")


def read_npy(path: Path) -> np.ndarray:
    """An engine dump. The common case (C order, a plain dtype) is read with one regex over the
    header instead of np.load's literal_eval, a third of the time of reading 1,600 small dumps."""
    try:
        data = path.read_bytes()
        if data[:6] == b"\x93NUMPY" and data[6] == 1:
            size = int.from_bytes(data[8:10], "little")
            header = _NPY_HEADER.match(data[10:10 + size])
            if header is not None:
                shape = tuple(int(n) for n in header["shape"].split(b",") if n.strip())
                return np.frombuffer(data, dtype=np.dtype(header["descr"].decode()),
                                     offset=10 + size).reshape(shape)
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DumpError(f"cannot read the dump: {exc}", path) from None
