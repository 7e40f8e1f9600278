"""graph_order: a model's layers from its inputs to its outputs, whatever order the .json lists
them in (ACUITY writes it from the outputs back, with converter layers last)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from quanted.core.engine.model_json import graph_order, read_layers
from tests.conftest import SAMPLE


def layer(*inputs: str) -> dict:
    return {"op": "x", "inputs": [f"@{name}:out0" for name in inputs]}


def test_the_sample_runs_from_its_input_to_its_output():
    order = graph_order(read_layers(SAMPLE / "tinynet.json"))
    assert order[0] == "input_37" and order[-1] == "attach_output/out0_0"
    assert len(order) == len(read_layers(SAMPLE / "tinynet.json"))


def test_a_converter_listed_last_comes_right_after_its_producer():
    layers = {"out": layer("conv_to_u8"), "conv": layer("in"), "in": layer(),
              "conv_to_u8": layer("conv")}
    assert graph_order(layers) == ["in", "conv", "conv_to_u8", "out"]


def test_a_cycle_or_an_unknown_producer_does_not_stop_the_walk():
    layers = {"a": layer("b", "elsewhere"), "b": layer("a")}
    assert sorted(graph_order(layers)) == ["a", "b"]


@given(st.lists(st.lists(st.integers(0, 30), max_size=3), min_size=1, max_size=30),
       st.randoms(use_true_random=False))
def test_every_layer_comes_after_the_layers_feeding_it(feeds, random):
    # Layer i may only be fed by layers before it: a DAG, listed in a shuffled order.
    layers = {f"l{i}": layer(*(f"l{j}" for j in inputs if j < i))
              for i, inputs in enumerate(feeds)}
    names = list(layers)
    random.shuffle(names)
    order = graph_order({name: layers[name] for name in names})
    assert sorted(order) == sorted(layers)
    where = {name: i for i, name in enumerate(order)}
    for name, definition in layers.items():
        for item in definition["inputs"]:
            assert where[item[1:].split(":")[0]] < where[name]
