"""The public files: quanted's fast index agrees with a full YAML parse, and round trips are
exact."""

from __future__ import annotations

import pytest
import yaml

from quanted.core.document.model import QuantizeDocument
from quanted.core.format.keys import split_tensor_key
from tests.conftest import public

FIXTURES = [
    "khadas_mobilenet_tf.quantize",
    "nsbb_zipformer_decoder_uint8.quantize",
    "nsbb_zipformer_joiner_uint8.quantize",
]


@pytest.mark.parametrize("name", FIXTURES)
def test_index_agrees_with_a_full_yaml_parse(name):
    path = public(name)
    doc = QuantizeDocument.open(path)
    parsed = yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
    assert doc.tensor_keys == list(parsed["quantize_parameters"])
    assert doc.customized == {k: str(v) for k,
                              v in (parsed["customized_quantize_layers"] or {}).items()}
    layers = (split_tensor_key(k)[0] for k in parsed["quantize_parameters"])
    assert doc.layer_ids == list(dict.fromkeys(layers))
    qtypes = doc.tensor_qtypes()
    for key, fields in parsed["quantize_parameters"].items():
        quantizer = fields.get("quantizer", fields.get("dtype"))
        assert qtypes[key] == (quantizer, fields["qtype"])


@pytest.mark.parametrize("name", FIXTURES)
def test_no_op_save_is_byte_identical(name, public_copy):
    path = public_copy(name)
    original = path.read_bytes()
    doc = QuantizeDocument.open(path)
    assert doc.to_bytes() == original
    doc.save()
    assert path.read_bytes() == original


@pytest.mark.parametrize("name", FIXTURES)
def test_add_then_remove_every_layer_gives_back_the_original(name, public_copy):
    path = public_copy(name)
    original = path.read_bytes()
    doc = QuantizeDocument.open(path)
    already = set(doc.customized)
    for layer in doc.layer_ids:
        if layer in already:
            continue
        doc.set_layer(layer, "float16")
        assert doc.customized[layer] == "float16"
        doc.remove_layer(layer)
        assert doc.to_bytes() == original, layer


def test_legacy_fixture_layout_is_detected_and_kept():
    doc = QuantizeDocument.open(public("khadas_mobilenet_tf.quantize"))
    assert doc.scan.legacy
    assert doc.scan.key_indent == 4
    assert len(doc.customized) == 12
    doc.set_layer("attach_input/out0_1", "float32")
    assert doc.block_text().splitlines()[-1] == "    attach_input/out0_1: float32"


def test_removing_one_layer_changes_exactly_its_line(public_copy):
    path = public_copy("khadas_mobilenet_tf.quantize")
    original = path.read_text()
    doc = QuantizeDocument.open(path)
    doc.remove_layer("MobilenetV1/MobilenetV1/Conv2d_13_depthwise/Relu6_11")
    doc.save()
    expected = original.replace(
        "    MobilenetV1/MobilenetV1/Conv2d_13_depthwise/Relu6_11: dynamic_fixed_point-i16\n", "", 1
    )
    assert path.read_text() == expected


def test_tensor_fields_on_demand():
    doc = QuantizeDocument.open(public("nsbb_zipformer_joiner_uint8.quantize"))
    fields = doc.tensor_fields("@Gemm_/output_linear/Gemm_1:bias")
    assert fields["qtype"] == "i32"
    assert fields["scale"] == "0.00032330979593098164"
