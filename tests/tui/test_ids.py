"""Long layer ids shortened so rows can be told apart (issue 12 item 3)."""

from __future__ import annotations

import pytest

from quanted.tui.ids import elide

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
