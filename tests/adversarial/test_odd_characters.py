"""Issue 11 items 3 and 10: characters that split lines for some readers and not others, and
control characters that must never reach a terminal raw."""

from __future__ import annotations

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from tests.conftest import SAMPLE

LAYER = "Flatten_output_0_3"
ODD = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1b", "\x7f", "\t"]


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "m_uint8.quantize"
    path.write_bytes((SAMPLE / "tinynet_uint8.quantize").read_bytes())
    return path


@pytest.mark.parametrize("ch", ODD, ids=[f"U+{ord(c):04X}" for c in ODD])
def test_add_refuses_a_comment_the_engine_or_quanted_would_misread(sample, ch, capsys):
    before = sample.read_bytes()
    assert main(["add", str(sample), LAYER, "--comment", f"a{ch}b"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"U+{ord(ch):04X}" in err and "--comment" in err
    assert sample.read_bytes() == before
    assert main(["remove", str(sample), "classifier/Gemm_output_0_2"]) == 0


@pytest.mark.parametrize("ch", ODD, ids=[f"U+{ord(c):04X}" for c in ODD])
def test_add_refuses_such_a_layer_id(sample, ch, capsys):
    assert main(["add", str(sample), f"x{ch}y"]) == 1
    assert f"U+{ord(ch):04X}" in capsys.readouterr().err


@pytest.mark.parametrize("ch", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028"])
def test_a_file_holding_them_in_a_comment_still_opens_and_edits(sample, ch, capsys):
    text = sample.read_text().replace(f"  {LAYER}: dynamic_fixed_point-i16",
                                      f"  {LAYER}: dynamic_fixed_point-i16  # a{ch}")
    sample.write_text(text)
    assert main(["remove", str(sample), LAYER]) == 0  # str.splitlines() used to break here
    assert f"# a{ch}" not in sample.read_text()


def test_check_reports_control_characters_with_their_line(sample, capsys):
    lines = sample.read_text().split("\n")
    at = lines.index(f"  {LAYER}: dynamic_fixed_point-i16")
    lines[at] += "  # \x1bred"
    lines[3] += "  # \x0e"
    sample.write_text("\n".join(lines))
    assert main(["check", str(sample)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{sample}:{at + 1}: error: U+001B, a control character: the engine's YAML loader " \
           "rejects the file" in out
    assert any(line.startswith(f"{sample}:4: error: U+000E") for line in out)


def test_check_reports_a_field_written_twice(sample, capsys):
    lines = sample.read_text().split("\n")
    key_at = next(i for i, ln in enumerate(lines) if ln.startswith("  '@"))
    lines.insert(key_at + 2, "    qtype: i16")
    sample.write_text("\n".join(lines))
    assert main(["check", str(sample)]) == 1
    out = capsys.readouterr().out
    tensor = lines[key_at].strip()[:-1]
    assert f"{sample}:{key_at + 3}: error: tensor {tensor} has 'qtype:' twice" in out


def test_check_reports_a_key_over_1024_characters(sample, capsys):
    sample.write_text(sample.read_text().replace(f"  {LAYER}:", "  " + "k" * 1025 + ":"))
    assert main(["check", str(sample)]) == 1
    out = capsys.readouterr().out
    assert "a key of 1025 characters: the engine's YAML loader allows 1024" in out


def test_an_escape_in_a_layer_id_is_shown_escaped(tmp_path, capsys):
    text = (SAMPLE / "tinynet_uint8.quantize").read_text()
    path = tmp_path / "m_uint8.quantize"
    path.write_text(text.replace("'@Flatten_output_0_3:out0'", "'@Flat\x1b[31mten:out0'"))
    assert main(["layers", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Flat\\x1b[31mten" in out


def test_invalid_utf8_arguments_are_refused_not_crashed_on(sample, capsys):
    bad = b"\xff".decode("utf-8", "surrogateescape")
    assert main(["add", str(sample), bad]) == 1
    assert "not valid UTF-8" in capsys.readouterr().err
    assert main(["add", str(sample), LAYER, "--comment", bad]) == 1
    assert "not valid UTF-8" in capsys.readouterr().err


def test_a_layer_id_with_u2028_in_the_file_is_read_back(tmp_path):
    text = (SAMPLE / "tinynet_uint8.quantize").read_text()
    path = tmp_path / "m_uint8.quantize"
    path.write_text(text.replace(f"  {LAYER}: dynamic", "  'odd\u2028id': dynamic"))
    doc = QuantizeDocument.open(path)
    assert "odd\u2028id" in doc.customized
