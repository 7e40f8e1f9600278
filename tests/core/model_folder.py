"""A model folder as `pegasus import` leaves it, enough for quanted to plan an engine run:
m.json with the given layers, m.data, m_inputmeta.yml naming dataset.txt, and dataset.txt
listing the given inputs. The tests that write one add beside it what they need."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

INPUT_META = "input_meta:\n  databases:\n  - path: dataset.txt\n    type: TEXT\n"


def write_model_folder(folder: Path, layers: dict[str, dict] | Iterable[str],
                       inputs: Iterable[str], data: bytes = b"\0") -> Path:
    """The files in `folder`; `layers` as the model's "Layers" (names alone: no fields).
    Returns m.json."""
    if not isinstance(layers, dict):
        layers = {layer: {} for layer in layers}
    (folder / "m.json").write_text(json.dumps({"Layers": layers}))
    (folder / "m.data").write_bytes(data)
    (folder / "m_inputmeta.yml").write_text(INPUT_META)
    (folder / "dataset.txt").write_text("".join(f"{name}\n" for name in inputs))
    return folder / "m.json"
