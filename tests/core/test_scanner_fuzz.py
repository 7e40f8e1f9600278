"""The fast scanner never accepts what a YAML parser rejects or reads differently.

Random small corruptions of real-shaped files: whenever quanted opens the result, PyYAML must
parse it too and agree on every tensor key and on the customized map; whatever quanted rejects
must be a ReadError (exit 2), never a crash."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import ReadError
from tests.core.docs import legacy_doc, v2_doc

BASES = [
    v2_doc(layers=("c1_8", "c2_6"), customized=(
        "customized_quantize_layers:\n  # note\n  c1_8: dynamic_fixed_point-i16  # why\n"
    )),
    legacy_doc(),
    legacy_doc(rknn=True),
    v2_doc(layers=("a", "b"),
           customized="customized_quantize_layers: {a: float16}\n").replace("\n", "\r\n"),
    v2_doc(layers=("a",)).replace("    scale: 4.811771941604093e-05\n",
                                  "    scale: [0.1, 0.2]\n    channel_dim: 0\n"),
]
SPECIAL = list("'\":#-{}[]&*!|>%@` \n?,\\") + ["  ", "- ", ": ", " #", "\n  ", "\n    ", "~",
                                               "...", "---"]


@st.composite
def corrupted(draw):
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "dup-line",
                                     "drop-line"]))
        pos = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "insert":
            text = text[:pos] + draw(st.sampled_from(SPECIAL)) + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 4)):]
        elif kind == "replace":
            text = text[:pos] + draw(st.sampled_from(SPECIAL)) + text[pos + 1:]
        elif kind == "truncate":
            text = text[:pos]
        else:
            lines = text.split("\n")
            i = pos % len(lines)
            lines[i:i + 1] = [lines[i], lines[i]] if kind == "dup-line" else []
            text = "\n".join(lines)
    return text


def _yaml_view(data: bytes):
    try:
        parsed = yaml.load(data, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    return parsed


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_no_false_accepts(text):
    data = text.encode()
    try:
        doc = QuantizeDocument(data)
    except ReadError:
        return
    parsed = _yaml_view(data)
    assert isinstance(parsed, dict), f"quanted accepted what YAML rejects:\n{text}"
    params = parsed.get("quantize_parameters") or {}
    assert isinstance(params, dict)
    assert [str(k) for k in params] == doc.tensor_keys
    custom = parsed.get("customized_quantize_layers") or {}
    assert isinstance(custom, dict)
    assert {str(k): "" if v is None else str(v) for k, v in custom.items()} == doc.customized
