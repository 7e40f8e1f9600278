"""The table's model on its own: filter and sort semantics, no app needed."""

from __future__ import annotations

import re
import warnings

from quanted.core.document.layers import LayerRow
from quanted.tui.dialogs.filter_input import describe_filter
from quanted.tui.row_model import RowModel, compile_filter


def rows():
    return [
        LayerRow("features/Conv_1", ["@features/Conv_1:out0"], {"out0": 0.2}, order=0),
        LayerRow("layer1/Relu_2", ["@layer1/Relu_2:out0"], {"out0": 0.9}, order=1),
        LayerRow("layer1/conv_3", ["@layer1/conv_3:out0"], {}, order=2),
        LayerRow("a(b", ["@a(b:out0"], {"out0": 0.5}, order=3),
    ]


def names(model):
    return [model.row_at(i).layer for i in range(len(model))]


def test_filter_is_a_case_insensitive_regex_or_a_substring():
    model = RowModel(rows())
    model.set_filter("conv")
    assert names(model) == ["features/Conv_1", "layer1/conv_3"]
    model.set_filter("^layer1/.*_[23]$")
    assert names(model) == ["layer1/Relu_2", "layer1/conv_3"]
    model.set_filter("a(b")  # not a valid regex: a plain substring
    assert names(model) == ["a(b"]
    model.set_filter("")
    assert len(model) == 4


def test_sorts_keep_the_filter():
    model = RowModel(rows())
    assert names(model) == ["layer1/Relu_2", "a(b", "features/Conv_1", "layer1/conv_3"]
    model.set_filter("layer1")
    assert model.next_sort() == "name"
    assert names(model) == ["layer1/conv_3", "layer1/Relu_2"]
    assert model.next_sort() == "file"
    assert names(model) == ["layer1/Relu_2", "layer1/conv_3"]
    assert model.index_of("layer1/conv_3") == 1 and model.index_of("a(b") is None


def test_threshold_counts():
    model = RowModel(rows())
    assert model.count_at_or_above(0.5) == 2
    assert model.layers_to_add(0.5) == ["layer1/Relu_2", "a(b"]


def test_a_pattern_re_warns_about_filters_without_a_warning():
    """`[[`: re emits a FutureWarning (a possible nested set); the user's text must not print
    one over the editor. `[[` is no valid regex (re never caches it: it warns every time), so
    it is a substring; `u[[_]` is a valid one."""
    re.purge()  # a cached pattern compiles without its warning
    model = RowModel(rows() + [LayerRow("x[[y", ["@x[[y:out0"], {}, order=4)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_filter("[[")
        assert names(model) == ["x[[y"]
        assert compile_filter("[[")("x[[y")
        assert describe_filter("[[") == "substring (not a valid regex)"
        model.set_filter("u[[_]")  # u, then [ or _
        assert names(model) == ["layer1/Relu_2"]
        assert describe_filter("u[[_]") == "regex, any case"
