"""Bulk edits (one pass over the block) give exactly what the same edits one by one give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.format import block
from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import EditError
from quanted.core.format.validate import check
from tests.core.docs import v2_doc

LAYERS = ("c1_8", "c2_6", "logits_2", "d/e.1", "f")
BLOCKS = [
    "customized_quantize_layers: {}\n",
    "customized_quantize_layers:\n  # top\n  c1_8: float16  # a\n  c2_6: dynamic_fixed_point-i16\n",
    "customized_quantize_layers: {c1_8: float16, f: float16}\n",
    "customized_quantize_layers:\n  c1_8: float16\n  logits_2: float16  # last, no newline",
]


def _doc(block: str) -> QuantizeDocument:
    stable = block.endswith("\n")
    return QuantizeDocument(v2_doc(layers=LAYERS, customized=block, stable=stable).encode())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BLOCKS), st.lists(st.sampled_from(LAYERS), min_size=1, unique=True),
       st.sampled_from([None, "why", "  padded  "]))
def test_bulk_add_comment_remove_match_one_by_one(block, layers, comment):
    bulk, single = _doc(block), _doc(block)
    with bulk.batch():
        bulk.set_layers(dict.fromkeys(layers, "float16"))
        bulk.set_comments(dict.fromkeys(layers, comment))
    for layer in layers:
        single.set_layer(layer, "float16")
        single.set_comment(layer, comment)
    assert bulk.to_bytes() == single.to_bytes()
    bulk.remove_layers(layers)
    for layer in layers:
        single.remove_layer(layer)
    assert bulk.to_bytes() == single.to_bytes()
    bulk.undo()  # the bulk remove is one step
    assert set(layers) <= set(bulk.customized)


def test_bulk_remove_refuses_a_layer_that_is_not_customized_and_changes_nothing():
    doc = _doc(BLOCKS[1])
    with pytest.raises(EditError, match="'f' is not in customized_quantize_layers"):
        doc.remove_layers(["c1_8", "f"])
    assert not doc.is_modified


def test_check_of_many_customized_layers_finds_the_one_unknown():
    layers = [f"l{i}" for i in range(300)]
    lines = "".join(f"  {layer}: dynamic_fixed_point-i16\n" for layer in layers + ["nope"])
    doc = QuantizeDocument(v2_doc(layers=layers, customized="customized_quantize_layers:\n" + lines)
                           .encode())
    problems = check(doc)
    assert [p.layer for p in problems] == ["nope"]
    assert problems[0].line == doc.block_line + 301


def test_check_reads_the_layer_ids_once_not_a_file_search_per_customized_layer(monkeypatch):
    """check's time must not grow with (customized layers x file size): a byte search of the
    table per customized layer made 18,000 of them take 16 s on a 15 MB file."""
    from quanted.core.format import scanner

    searches: list[str] = []
    real = scanner.has_layer
    monkeypatch.setattr(scanner, "has_layer",
                        lambda result, layer: searches.append(layer) or real(result, layer))
    layers = [f"l{i}" for i in range(300)]
    lines = "".join(f"  {layer}: dynamic_fixed_point-i16\n" for layer in layers)
    doc = QuantizeDocument(v2_doc(layers=layers, customized="customized_quantize_layers:\n" + lines)
                           .encode())
    assert check(doc) == []
    assert searches == []


def test_derived_views_are_copies():
    doc = _doc(BLOCKS[1])
    doc.customized["x"] = "float16"
    doc.comments()["c2_6"] = "x"
    assert "x" not in doc.customized
    assert "c2_6" not in doc.comments()


ODD = ("c1_8", "yes", "a b", "é1", "n", "1x", "x:y", "d/e.1")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(ODD), min_size=1, unique=True))
def test_bulk_add_quotes_the_ids_that_need_it_as_one_by_one_does(layers):
    from ruamel.yaml import YAML  # the engine's reader (YAML 1.2: `yes` is a string)

    bulk = QuantizeDocument(v2_doc(layers=ODD).encode())
    single = QuantizeDocument(v2_doc(layers=ODD).encode())
    bulk.set_layers(dict.fromkeys(layers, "float16"))
    for layer in layers:
        single.set_layer(layer, "float16")
    assert bulk.to_bytes() == single.to_bytes()
    read = YAML(typ="safe", pure=True).load(bulk.to_bytes())["customized_quantize_layers"]
    assert {str(k): v for k, v in read.items()} == dict.fromkeys(layers, "float16")
    assert all(type(k) is str for k in read)


@pytest.mark.parametrize("count", [3, 300])
def test_missing_layers_agrees_with_has_layer_and_searches_only_for_a_few(count, monkeypatch):
    from quanted.core.format import scanner
    from quanted.core.document.lookup import ONE_BY_ONE, missing_layers

    layers = [f"l{i}" for i in range(count)]
    doc = QuantizeDocument(v2_doc(layers=layers).encode())
    asked = layers[: count // 2] + ["nope", "l", "@l0:out0"]
    expected = {layer for layer in asked if not doc.has_layer(layer)}
    searches: list[str] = []
    real = scanner.has_layer
    monkeypatch.setattr(scanner, "has_layer",
                        lambda result, layer: searches.append(layer) or real(result, layer))
    assert missing_layers(doc, asked) == expected == {"nope", "l", "@l0:out0"}
    assert len(searches) == (len(asked) if len(asked) <= ONE_BY_ONE else 0)
    assert doc.tensors_by_layer  # held now: read, neither searched nor grouped again
    searches.clear()
    monkeypatch.setattr(scanner, "layer_names", lambda keys: pytest.fail("grouped again"))
    assert missing_layers(doc, asked) == expected and searches == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([*BLOCKS, "customized_quantize_layers:\n  f: float16\n  c2_6: float16\n"
                                    "  f: dynamic_fixed_point-i16\n"]), st.lists(st.dictionaries(
    st.sampled_from(LAYERS), st.sampled_from(["float16", "dynamic_fixed_point-i16"]),
    min_size=1), min_size=1, max_size=3))
def test_bulk_set_entries_are_the_block_read_back_in_order(block_text, steps):
    """set_layers (and set_layer, through it) knows its new entries without reading the
    lines back: the same entries, in the same order, as reading the block it made, and as
    opening the file it writes."""
    doc = _doc(block_text)
    for qtypes in steps:
        if len(qtypes) == 1:
            doc.set_layer(*next(iter(qtypes.items())))
        else:
            doc.set_layers(qtypes)
        assert list(doc.customized.items()) == list(block.entries(doc.block_state).items())
    assert list(doc.customized.items()) == list(
        QuantizeDocument(doc.to_bytes()).customized.items())
