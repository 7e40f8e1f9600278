"""`quanted layers` reads the table into a TensorIndex and the report by layer only, and writes
its JSON a row at a time: its output is, byte for byte, what the whole-list path printed
(rows from the document's tensors_by_layer and a full EntropyReport, one json.dump)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.cli import layers_output
from quanted.cli.dispatch import main
from quanted.core.format import entropy, scanner
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.qtypes import DEFAULT_QTYPE
from quanted.core.format.entropy import EntropyReport
from quanted.core.state.history import History
from quanted.core.document.layers import build_rows, sort_by_entropy
from tests.conftest import public
from tests.core.docs import V2_HEADER, v2_doc, v2_tensor


def _old_rows(quantize: Path, entropy: Path):
    doc = QuantizeDocument.open(quantize)
    return sort_by_entropy(build_rows(doc, EntropyReport.read(entropy)))


def _generated(folder: Path) -> tuple[Path, Path]:
    """Layers of every kind the rows tell apart: converters, layers only the report or the
    customized block names, keys not of the form '@LAYER:PORT', ids with ':' and quotes, a
    layer whose tensors are not together, a repeated port, a layer of many ports."""
    layers = [f"blk:{i}/conv_{i}" for i in range(40)]
    layers += ["c2_6_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12", "it's", "a"]
    keys = [f"@{layer}:{port}" for layer in layers for port in ("out0", "weight", "bias")]
    keys += ["@a:out0", "plain:out0", "@lonely", "@a:extra"]
    keys += [f"@wide:p{i}" for i in range(40)]
    body = "".join(v2_tensor(key) for key in keys)
    custom = ("customized_quantize_layers:\n  blk:3/conv_3: dynamic_fixed_point-i16\n"
              "  only_custom: float16\n  a: float16\n")
    quantize = folder / "gen_uint8.quantize"
    quantize.write_text(V2_HEADER + body + custom + "stable_quantize_tensors: {}\n")
    lines = [f"@{layer}:out0, {0.01 * i!r}" for i, layer in enumerate(layers) if i % 7]
    lines += [f"@{layer}:weight, {0.5 - 0.01 * i!r}" for i, layer in enumerate(layers) if i % 3]
    lines += ["@only_report:out0, 0.77", "@blk:5/conv_5:out0, 0.99", "plain:out0, 0.3"]
    entropy = folder / "entropy.txt"
    entropy.write_text("\n".join(lines) + "\n")
    return quantize, entropy


def _cases(tmp_path: Path) -> list[tuple[Path, Path]]:
    return [_generated(tmp_path), (public("khadas_mobilenet_tf.quantize"),
                                   public("khadas_mobilenet_tf_entropy.txt"))]


@pytest.mark.parametrize("case", [0, 1])
def test_layers_prints_what_the_whole_list_path_printed(tmp_path, capsys, case):
    quantize, entropy = _cases(tmp_path)[case]
    old = _old_rows(quantize, entropy)
    expected_table = io.StringIO()
    layers_output.write_table(expected_table, old, None)
    expected_json = json.dumps([row.to_json() for row in old], indent=1) + "\n"

    assert main(["layers", str(quantize), "-e", str(entropy)]) == 0
    assert capsys.readouterr().out == expected_table.getvalue()
    assert main(["layers", str(quantize), "-e", str(entropy), "--json"]) == 0
    assert capsys.readouterr().out == expected_json
    assert main(["layers", str(quantize), "-e", str(entropy), "--top", "5", "--json"]) == 0
    top = [row for row in old if row.is_candidate and row.entropy][:5]
    assert capsys.readouterr().out == json.dumps([r.to_json() for r in top], indent=1) + "\n"


def test_the_zipformer_files_list_as_before(tmp_path, capsys):
    """Public files without a report: the rows come from the table and the block alone."""
    for name in ("nsbb_zipformer_decoder_uint8.quantize", "nsbb_zipformer_joiner_uint8.quantize"):
        quantize = public(name)
        old = sort_by_entropy(build_rows(QuantizeDocument.open(quantize)))
        assert main(["layers", str(quantize), "--json"]) == 0
        out = capsys.readouterr().out
        assert out == json.dumps([row.to_json() for row in old], indent=1) + "\n"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text("ab\n\"\\ é\x00"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("xy\n", max_size=2),
                                                                 inner, max_size=3),
    max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(JSON_VALUES, max_size=4))
def test_a_list_written_an_item_at_a_time_is_json_dump_of_the_list(items):
    out = io.StringIO()
    layers_output.write_json_list(out, iter(items))
    expected = io.StringIO()
    json.dump(items, expected, indent=1)
    assert out.getvalue() == expected.getvalue() + "\n"


def test_the_json_is_written_from_a_generator_of_rows(monkeypatch, tmp_path, capsys):
    """No list of all the rows' dicts: write_json hands write_json_list a generator."""
    quantize, entropy = _generated(tmp_path)
    seen = []
    real = layers_output.write_json_list
    monkeypatch.setattr(layers_output, "write_json_list",
                        lambda out, items: (seen.append(type(items).__name__), real(out, items)))
    assert main(["layers", str(quantize), "-e", str(entropy), "--json"]) == 0
    capsys.readouterr()
    assert seen == ["generator"]


def test_add_top_picks_what_the_rows_pick_without_a_search_per_layer(tmp_path, capsys,
                                                                     monkeypatch):
    """add --top builds its rows from a TensorIndex too, and asks it (not a byte search of the
    table per picked layer) whether each layer exists."""
    quantize, entropy = _generated(tmp_path)
    old = _old_rows(quantize, entropy)
    picked = [row.layer for row in old if row.is_candidate and row.entropy][:20]
    searches = []
    real = scanner.has_layer
    monkeypatch.setattr(scanner, "has_layer",
                        lambda result, layer: (searches.append(layer), real(result, layer))[1])
    assert main(["add", str(quantize), "-e", str(entropy), "--top", "20"]) == 0
    customized = {"blk:3/conv_3": "dynamic_fixed_point-i16", "a": "float16"}
    expected = []
    for layer in picked:
        was = customized.get(layer)
        expected.append(f"added {layer}: {DEFAULT_QTYPE}" if was is None
                        else f"unchanged {layer}: {was}" if was == DEFAULT_QTYPE
                        else f"changed {layer}: {was} -> {DEFAULT_QTYPE}")
    assert capsys.readouterr().out.splitlines() == expected
    assert searches == []
    written = QuantizeDocument.open(quantize).customized
    assert all(written[layer] == DEFAULT_QTYPE for layer in picked)


def test_earlier_reports_are_read_only_for_chosen_layers_the_current_one_lacks(
        tmp_path, capsys, monkeypatch):
    quantize = tmp_path / "m_uint8.quantize"
    quantize.write_text(v2_doc(customized="customized_quantize_layers:\n  c2_6: float16\n"))
    report = tmp_path / "entropy.txt"
    report.write_text("@c1_8:out0, 0.2\n@c2_6:out0, 0.61\n@c2_6:weight, 0.3\n")
    History(quantize).save_copy("entropy-before-hybrid", source=report)
    asked = []
    real = entropy.earlier_reports
    monkeypatch.setattr(entropy, "earlier_reports",
                        lambda path, only=None: (asked.append(only), real(path, only))[1])
    assert main(["layers", str(quantize), "--json"]) == 0  # c2_6 has entropy: none read
    rows = {row["layer"]: row for row in json.loads(capsys.readouterr().out)}
    assert asked == [] and rows["c2_6"]["entropy_from"] is None

    report.write_text("@c1_8:out0, 0.2\n")  # the hybrid run's report: c2_6 is float16 now
    assert main(["layers", str(quantize), "--json"]) == 0
    rows = {row["layer"]: row for row in json.loads(capsys.readouterr().out)}
    assert asked == [{"c2_6"}]
    assert rows["c2_6"]["entropy"] == {"out0": 0.61, "weight": 0.3}
    assert rows["c2_6"]["entropy_from"].startswith("entropy.txt before the hybrid run of ")
    assert rows["c1_8"]["entropy_from"] is None and rows["logits_2"]["entropy"] == {}
