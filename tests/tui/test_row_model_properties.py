"""The vectorised row model (cached filter masks, narrowing on a longer text, numpy orders,
changed-rows-only customized refresh) shows exactly what a plain per-row reading shows."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from row_strategies import layer_rows

from quanted.core.document.layers import LayerRow
from quanted.tui.session import first_changed
from quanted.tui.row_model import SORTS, RowModel, compile_filter

ID = st.text("abAB12_/.(", min_size=1, max_size=6)


def models():
    return layer_rows(ID, max_size=12)


def reference(rows, sort, text):
    if sort == "entropy":
        ranked = sorted(rows, key=lambda r: (r.max_entropy is None, -(r.max_entropy or 0), r.order))
    elif sort == "name":
        ranked = sorted(rows, key=lambda r: (r.layer.casefold(), r.layer))
    else:
        ranked = sorted(rows, key=lambda r: r.order)
    match = compile_filter(text)
    return [r.layer for r in ranked if match is None or match(r.layer)]


@settings(max_examples=300, deadline=None)
@given(models(), st.lists(st.tuples(st.sampled_from(SORTS), st.text("abAB12_/.(", max_size=4)),
                          min_size=1, max_size=8),
       st.lists(st.sampled_from(["c1", "x", "y"]), max_size=3))
def test_view_matches_a_per_row_reading(rows, steps, extra):
    model = RowModel(rows)
    for sort, text in steps:
        model.set_sort(sort)
        for end in range(len(text) + 1):  # typed one key at a time, then erased
            model.set_filter(text[:end])
            assert [model.row_at(i).layer for i in range(len(model))] == reference(
                model.rows, sort, text[:end])
        for end in range(len(text), -1, -1):
            model.set_filter(text[:end])
            assert [model.row_at(i).layer for i in range(len(model))] == reference(
                model.rows, sort, text[:end])
    customized = {rows[0].layer: "float16", **dict.fromkeys(extra, "float16")}
    model.refresh_customized(customized)
    model.refresh_customized({k: v for k, v in customized.items() if k != rows[0].layer})
    model.refresh_customized(customized)
    assert {r.layer: r.customized for r in model.rows if r.customized} == customized
    assert all(model.by_layer[layer].customized == "float16" for layer in customized)
    for layer in customized:
        assert model.index_of(layer) is None or model.row_at(model.index_of(layer)).layer == layer
    for threshold in (0.0, 0.1, 0.5, 0.9, 1.0):
        layers = model.layers_to_add(threshold)
        assert model.count_to_add(threshold) == len(layers)
        assert all(model.by_layer[layer].is_candidate and model.by_layer[layer].customized is None
                   for layer in layers)
    model.refresh_customized({})
    assert [model.count_to_add(t) for t in (0.0, 0.5)] == [
        len(model.layers_to_add(t)) for t in (0.0, 0.5)]


@settings(max_examples=200, deadline=None)
@given(st.lists(ID, min_size=8, max_size=40, unique=True), st.data())
def test_each_refresh_shows_the_block_as_a_fresh_reading_does(ids, data):
    """Small edits touch the changed rows, bulk ones (more than an eighth of the rows) every
    row: either way each row shows what the block says, rows for new ids are appended."""
    model = RowModel([LayerRow(layer, [f"@{layer}:out0"], order=i) for i, layer in
                      enumerate(ids)])
    named = ids + ["only_in_block_1", "only_in_block_2"]
    for customized in data.draw(st.lists(st.dictionaries(
            st.sampled_from(named), st.sampled_from(["float16", "bf16"]), max_size=len(named)),
            min_size=1, max_size=6)):
        model.refresh_customized(customized)
        assert {r.layer: r.customized for r in model.rows if r.customized} == customized
        assert [r.layer for r in model.rows][: len(ids)] == ids
        assert all(model.row_at(model.index_of(layer)).layer == layer for layer in customized
                   if model.index_of(layer) is not None)


BLOCK = st.dictionaries(st.sampled_from("abcdef"), st.sampled_from(["float16", "bf16"]))


@given(BLOCK, BLOCK)
def test_first_changed_is_the_first_differing_layer(before, after):
    """Where an undo or redo puts the cursor: the first layer, in before's order then the
    ones only after has, whose qtype differs."""
    moved = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    assert first_changed(before, after) == (moved[0] if moved else None)
