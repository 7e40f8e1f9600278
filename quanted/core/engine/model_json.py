"""An ACUITY model .json (`NAME.json`, `NAME_POSTFIX.quantize.json`): its `Layers` object."""

from __future__ import annotations

import json
from pathlib import Path

from quanted.core.errors import QuantedError


class ModelError(QuantedError):
    """The model .json cannot be read or has no `Layers` object (exit 2)."""

    exit_code = 2


def read_model(path: Path) -> dict:
    """The whole model object, which has a `Layers` object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read the model: {exc.strerror or exc}", path) from None
    except ValueError as exc:
        raise ModelError(f"the model is not JSON: {exc}", path) from None
    if not isinstance(data, dict) or not isinstance(data.get("Layers"), dict):
        raise ModelError("the model has no `Layers` object", path)
    return data


def read_layers(path: Path) -> dict[str, object]:
    """Layer id -> its definition, in file order."""
    layers: dict[str, object] = read_model(path)["Layers"]
    return layers


def producers(definition: object) -> list[str]:
    """The layer ids a layer's `inputs` name (`@conv1:out0` -> `conv1`), in order."""
    inputs = definition.get("inputs") if isinstance(definition, dict) else None
    found = []
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, str) and item.startswith("@"):
            found.append(item[1:].rpartition(":")[0] or item[1:])
    return found


def graph_order(layers: dict[str, object]) -> list[str]:
    """The layers from the model's inputs to its outputs, each after every layer feeding it
    (ACUITY writes the .json from the outputs back, converter layers last): a depth-first walk
    from each layer in file order that places a layer once its producers are placed."""
    placed: dict[str, None] = {}
    pending: set[str] = set()  # on the walk's path: a cycle (no valid model has one) ends there
    for start in layers:
        stack = [(start, False)]
        while stack:
            name, ready = stack.pop()
            if ready:
                placed[name] = None
                pending.discard(name)
                continue
            if name in placed or name in pending or name not in layers:
                continue
            pending.add(name)
            stack.append((name, True))
            # Pushed in reverse so that the first input is walked first.
            stack.extend((p, False) for p in reversed(producers(layers[name])))
    return list(placed)
