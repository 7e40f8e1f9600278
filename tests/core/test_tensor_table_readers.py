"""Every reader of the tensor table agrees: keys, qtypes, one tensor's fields, layer lookup.

Generated tables mix single- and double-quoted keys (ACUITY writes single quotes, other tools
double), odd characters in ids, comments and both layouts; each reader must give what a full
YAML parse of the same bytes gives."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.format import scanner
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.keys import split_tensor_key
from tests.core.docs import V2_HEADER, v2_tensor

ID_CHARS = "abc_/.019:'# -@"
QTYPES = ["u8", "i8", "i16", "i32", "float16"]


def _quote(key: str, double: bool) -> str:
    if double and '"' not in key and "\\" not in key:
        return f'"{key}"'
    return "'" + key.replace("'", "''") + "'"


@st.composite
def tensor_tables(draw):
    legacy = draw(st.booleans())
    ki = " " * (4 if legacy else 2)
    fi = ki * 2
    layers = draw(st.lists(st.text(ID_CHARS, min_size=1, max_size=8), min_size=1, max_size=6,
                           unique=True))
    tensors = []
    parts = ["%YAML 1.2\n---\nquantize_parameters:\n" if legacy else V2_HEADER]
    for layer in layers:
        for port in draw(st.lists(st.sampled_from(["out0", "weight", "bias"]), min_size=1,
                                  max_size=3, unique=True)):
            key = f"@{layer}:{port}"
            qtype = draw(st.sampled_from(QTYPES))
            tensors.append((key, qtype))
            quoted = _quote(key, draw(st.booleans()))
            if draw(st.booleans()):
                parts.append(f"{ki}# {layer}\n")
            spacing = draw(st.sampled_from(["", " "]))
            after_key = draw(st.sampled_from(["", "  # note"]))
            quantizer = draw(st.sampled_from(["asymmetric_affine", "dynamic_fixed_point"]))
            name = "dtype" if legacy else "quantizer"
            fields = [f"{fi}qtype: {qtype}\n", f"{fi}{name}: {quantizer}\n", f"{fi}scale: 0.5\n"]
            if draw(st.booleans()):
                fields.append(f"{fi}zero_point:\n{fi}-   129\n")
            order = draw(st.permutations(range(len(fields))))
            parts.append(f"{ki}{quoted}{spacing}:{after_key}\n" + "".join(fields[i] for i in order))
    parts.append("customized_quantize_layers: {}\n")
    return "".join(parts), tensors


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tensor_tables(), st.text(ID_CHARS, min_size=1, max_size=8))
def test_every_reader_agrees_with_a_yaml_parse(table, stranger):
    text, tensors = table
    data = text.encode()
    parsed = yaml.load(data, Loader=yaml.CSafeLoader)["quantize_parameters"]
    doc = QuantizeDocument(data)
    assert set(doc.layer_names()) == {split_tensor_key(key)[0] for key in parsed}
    assert doc.tensor_keys == list(parsed) == [key for key, _ in tensors]
    with pytest.MonkeyPatch.context() as patch:  # read in pieces of the table, as at 150 MB
        patch.setattr(scanner, "_PIECE", 1)
        assert scanner.tensor_keys(doc.scan) == doc.tensor_keys
    qtypes = doc.tensor_qtypes()
    assert list(qtypes) == doc.tensor_keys
    for key, fields in parsed.items():
        quantizer = fields.get("quantizer", fields.get("dtype"))
        assert qtypes[key] == (quantizer, fields["qtype"])
        read = doc.tensor_fields(key)
        assert (read.get("quantizer", read.get("dtype")), read["qtype"]) == qtypes[key]
        assert read["scale"] == "0.5"
    layers = {split_tensor_key(key)[0] for key in parsed}
    for layer in layers | {stranger}:
        assert doc.has_layer(layer) == (layer in layers), layer
    fresh = QuantizeDocument(data)  # has_layer before and after the index is built
    assert [fresh.has_layer(layer) for layer in sorted(layers)] == [True] * len(layers)


def test_a_double_quoted_key_after_a_single_quoted_one():
    """The bug this guards: b's i16 was credited to a, and b's fields were not found."""
    text = (V2_HEADER + v2_tensor("@a:out0", "u8")
            + v2_tensor("@b:out0", "i16").replace("'@b:out0'", '"@b:out0"')
            + "customized_quantize_layers: {}\n")
    doc = QuantizeDocument(text.encode())
    assert doc.tensor_qtypes() == {"@a:out0": ("asymmetric_affine", "u8"),
                                   "@b:out0": ("asymmetric_affine", "i16")}
    assert doc.tensor_fields("@b:out0")["qtype"] == "i16"
    assert doc.has_layer("b")
