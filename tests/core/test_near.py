"""core/near.closest gives difflib.get_close_matches' answer (n=1), ties and cutoff included,
and the "did you mean" hint reads it."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.document.model import QuantizeDocument
from quanted.core.document.near import closest
from quanted.core.format.validate import unknown_layer_message
from tests.core.docs import v2_doc

# A small alphabet makes near misses, equal ratios and equal quick_ratios common.
ids = st.text(alphabet="ab_/.0", max_size=9)


@settings(max_examples=600, deadline=None)
@given(word=ids, possibilities=st.lists(ids, max_size=30),
       cutoff=st.sampled_from([0.0, 0.5, 0.6, 0.74, 0.85, 1.0]))
def test_closest_is_difflibs_best(word, possibilities, cutoff):
    expected = difflib.get_close_matches(word, possibilities, n=1, cutoff=cutoff)
    assert closest(word, possibilities, cutoff) == (expected[0] if expected else None)


def test_a_tie_goes_to_the_greater_string_even_past_a_higher_bound():
    # '0baaab' has the higher quick_ratio (0.83) but ratio 0.5; 'a0' ties it at 0.5 and wins.
    assert difflib.get_close_matches("ababb0", ["0baaab", "a0"], n=1, cutoff=0.5) == ["a0"]
    assert closest("ababb0", ["0baaab", "a0"], 0.5) == "a0"


LAYERS = [f"/model/layers.{i}/block.{j}/{op}_output_0_{i * 10 + j}"
          for i in range(12) for j in range(4) for op in ("Conv", "Relu", "Add")]


@settings(max_examples=300, deadline=None)
@given(layer=st.sampled_from(LAYERS), at=st.integers(0, 60), typo=st.sampled_from("x_/1"),
       how=st.sampled_from(["swap", "drop", "insert"]))
def test_closest_on_layer_like_ids(layer, at, typo, how):
    at %= len(layer)
    word = {"swap": layer[:at] + typo + layer[at + 1:], "drop": layer[:at] + layer[at + 1:],
            "insert": layer[:at] + typo + layer[at:]}[how]
    expected = difflib.get_close_matches(word, LAYERS, n=1, cutoff=0.85)
    assert closest(word, LAYERS, 0.85) == (expected[0] if expected else None)


def test_the_hint_names_the_closest_layer():
    doc = QuantizeDocument(v2_doc(layers=["c1_8", "c2_6", "logits_2"]).encode())
    assert unknown_layer_message(doc, "logit_2").endswith("did you mean 'logits_2'?")
    assert unknown_layer_message(doc, "zzz") == "layer 'zzz' is not in quantize_parameters"
