"""Long layer ids shortened so rows can be told apart."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.document.short_ids import elide, shorten_column

MOBILENET = "MobilenetV1/MobilenetV1/Conv2d_13_depthwise/depthwise_73"
MOBILENET_NEIGHBOURS = ["MobilenetV1/MobilenetV1/Conv2d_7_pointwise/Conv2D_45",
                        "MobilenetV1/MobilenetV1/Conv2d_12_depthwise/depthwise_79"]
BIG = "/model/layers.240/block.2/Relu_output_0_11534"
BIG_NEIGHBOURS = ["/model/layers.241/block.2/Relu_output_0_11600",
                  "/model/layers.239/block.1/Add_output_0_11400"]


def test_short_ids_stay_whole():
    assert elide("c2_6", 10, ["c1_8"]) == "c2_6"


@pytest.mark.parametrize("width, expected", [
    (46, "…/MobilenetV1/Conv2d_13_depthwise/depthwise_73"),
    (34, "…/Conv2d_13_depthwise/depthwise_73"),  # the width of the id column at 80x24
    (30, "…/Conv2d_13_dept…/depthwise_73"),
    (25, "…/Conv2d_13…/depthwise_73"),
])
def test_the_shared_prefix_goes_first_the_block_number_stays(width, expected):
    shown = elide(MOBILENET, width, MOBILENET_NEIGHBOURS)
    assert shown == expected and len(shown) <= width


@pytest.mark.parametrize("width, expected", [
    (36, "…/layers.240/block.2/Relu…11534"),
    (30, "…/layers.240/block…/Relu…11534"),
])
def test_the_importer_suffix_shrinks_before_the_block_path(width, expected):
    assert elide(BIG, width, BIG_NEIGHBOURS) == expected


def test_rows_that_differ_only_in_the_middle_stay_distinct():
    ids = [f"MobilenetV1/MobilenetV1/Conv2d_{n}_depthwise/depthwise_{90 - n}" for n in range(14)]
    shown = [elide(x, 30, [ids[i - 1] if i else "", ids[i + 1] if i + 1 < len(ids) else ""])
             for i, x in enumerate(ids)]
    assert len(set(shown)) == len(ids)
    assert all(f"Conv2d_{n}_" in s for n, s in enumerate(shown))


def test_very_narrow_falls_back_to_head_and_tail():
    assert elide(MOBILENET, 10, MOBILENET_NEIGHBOURS) == "Mob…ise_73"
    assert elide("averyveryverylonglayername_12", 12) == "aver…name_12"


def test_a_converter_keeps_its_layer_and_its_two_qtypes():
    converter = ("MobilenetV1/MobilenetV1/Conv2d_13_depthwise/"
                 "depthwise_13_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12")
    neighbours = ["MobilenetV1/MobilenetV1/Conv2d_12_depthwise/depthwise_19"]
    assert elide(converter, 50, neighbours) == "…/Conv2d_13_depthwise/depthwise_13_pre:u8→i16_12"
    assert elide("c2_6_next_float16float16_to_asymmetric_affineu8_46", 30) \
        == "c2_6_next:float16→u8_46"


ENTROPY_ORDER = [  # the khadas fixture's top rows by max entropy: neighbours share little
    "MobilenetV1/MobilenetV1/Conv2d_2_depthwise/depthwise_79",
    "MobilenetV1/MobilenetV1/Conv2d_12_depthwise/depthwise_19",
    "MobilenetV1/MobilenetV1/Conv2d_5_depthwise/depthwise_61",
    "MobilenetV1/Logits/AvgPool_1a/AvgPool_7",
    "MobilenetV1/MobilenetV1/Conv2d_7_depthwise/depthwise_49",
]


def test_the_block_stays_when_the_neighbours_share_no_segment():
    """Entropy order puts unrelated layers side by side: the leading segments go, not the
    block name (`MobilenetV1/Mo…/depthwise_61` told nobody which block)."""
    shown = shorten_column(ENTROPY_ORDER, 28)
    assert all(len(s) <= 28 for s in shown)
    for block, text in zip(("Conv2d_2_", "Conv2d_12_", "Conv2d_5_", "Logits", "Conv2d_7_"),
                           shown):
        assert block in text, text
    assert [s.rsplit("/", 1)[1] for s in shown] == [
        "depthwise_79", "depthwise_19", "depthwise_61", "AvgPool_7", "depthwise_49"]
    assert shown[2] == "…/Conv2d_5_dep…/depthwise_61"


def test_an_id_without_slashes_loses_the_words_its_neighbours_start_with():
    ids = [f"backbone_stage3_block{n}_conv_output_0_{100 + n}" for n in range(3)]
    shown = shorten_column(ids, 28)
    assert shown[1] == "…block1_conv_output_0_101"
    assert len(set(shown)) == 3


def test_wide_characters_count_two_cells():
    from quanted.core.document.short_ids import cells

    text = elide("层/模型/卷积层_十三/深度_73", 12, [])
    assert cells(text) <= 12 and text.endswith("深度_73")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("ab/_.1é界", min_size=1, max_size=40), min_size=1, max_size=6),
       st.integers(1, 40))
def test_every_id_fits_its_width_and_a_fitting_one_is_whole(ids, width):
    from quanted.core.document.short_ids import cells

    for layer, shown in zip(ids, shorten_column(ids, width)):
        assert cells(shown) <= width
        if cells(layer) <= width:
            assert shown == layer


@settings(max_examples=300, deadline=None)
@given(st.text("ab/_.1", min_size=1, max_size=60), st.integers(8, 40), st.data())
def test_a_filter_match_stays_whole(layer, width, data):
    start = data.draw(st.integers(0, len(layer) - 1))
    end = data.draw(st.integers(start + 1, len(layer)))
    shown = elide(layer, width, [], keep=(start, end))
    assert len(shown) <= width
    if end - start + 2 <= width:
        assert layer[start:end] in shown


def test_the_match_beats_the_shared_prefix():
    """`/` then `MobilenetV1/Conv2d_13`: what the neighbours share would go first, the match
    with it; the match stays, with the layer's number."""
    start = MOBILENET.index("MobilenetV1/Conv2d_13")
    shown = elide(MOBILENET, 30, MOBILENET_NEIGHBOURS, keep=(start, start + 21))
    assert "MobilenetV1/Conv2d_13" in shown and shown.endswith("_73") and len(shown) <= 30


def test_a_long_converter_name_keeps_its_own_name_before_any_middle_cut():
    converter = ("MobilenetV1/MobilenetV1/Conv2d_1_depthwise/"
                 "depthwise_85_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_24")
    assert elide(converter, 30, []) == "…/depthwise_85_pre:u8→i16_24"
