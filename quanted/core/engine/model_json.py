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
