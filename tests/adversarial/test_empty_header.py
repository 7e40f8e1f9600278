"""Issue 11 item 8: `quanted add` then `quanted remove` (two processes' worth of opening)
gives back the file byte for byte, whatever form its empty block header had."""

from __future__ import annotations

import pytest

from quanted.cli import main
from tests.conftest import SAMPLE

LAYER = "Flatten_output_0_3"
FORMS = [
    "customized_quantize_layers: {}",
    "customized_quantize_layers: {}  # none yet",
    "customized_quantize_layers:",
    "customized_quantize_layers:  # hdr",
    "customized_quantize_layers: { }",
    "customized_quantize_layers: {}   ",
    "customized_quantize_layers:   {}",
    "customized_quantize_layers: {  }  # two spaces inside",
]


def _file_with(tmp_path, header: str, newline: str = "\n", at_end: bool = False):
    data = (SAMPLE / "tinynet_uint8.quantize").read_text()
    start = data.index("customized_quantize_layers:")
    end = data.index("stable_quantize_tensors")
    if at_end:
        text = data[:start] + data[end:] + header
    else:
        text = data[:start] + header + "\n" + data[end:]
    path = tmp_path / "m_uint8.quantize"
    path.write_bytes(text.replace("\n", newline).encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("header", FORMS)
def test_add_then_remove_is_byte_identical(tmp_path, header, newline, capsys):
    path = _file_with(tmp_path, header, newline)
    before = path.read_bytes()
    assert main(["add", str(path), LAYER]) == 0
    assert f"{LAYER}: dynamic_fixed_point-i16".encode() in path.read_bytes()
    assert main(["remove", str(path), LAYER]) == 0
    assert path.read_bytes() == before


@pytest.mark.parametrize("header", ["customized_quantize_layers:",
                                    "customized_quantize_layers: {}",
                                    "customized_quantize_layers: { }  # c"])
def test_round_trip_at_the_end_of_a_file_without_newline(tmp_path, header):
    path = _file_with(tmp_path, header, at_end=True)
    before = path.read_bytes()
    assert main(["add", str(path), LAYER, "--qtype", "float16"]) == 0
    assert main(["remove", str(path), LAYER]) == 0
    assert path.read_bytes() == before


def test_round_trip_in_one_session(tmp_path):
    from quanted.core.document.model import QuantizeDocument

    for header in FORMS:
        path = _file_with(tmp_path, header)
        doc = QuantizeDocument.open(path)
        doc.set_layer(LAYER, "float16")
        doc.remove_layer(LAYER)
        assert doc.to_bytes() == path.read_bytes(), header
