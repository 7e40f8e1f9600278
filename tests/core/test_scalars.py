"""all_simple, the bulk add's one check that no id needs quoting, agrees with the per-id rule
(a `_SIMPLE_SCALAR` YAML reads as a string) on every list of ids."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.format import scalars

PIECES = ["a", "Z", "_", "/", "0", ".", "-", " ", "\n", "é", "yes", "No", "NULL", "n", "y",
          "true", "Off", ":", "'", "\u2028"]


def per_id(texts: list[str]) -> bool:
    return bool(texts) and all(scalars._SIMPLE_SCALAR.fullmatch(t) is not None
                               and t.lower() not in scalars.NOT_STRINGS for t in texts)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=3).map("".join), max_size=6))
def test_all_simple_is_the_per_id_rule(texts):
    assert scalars.all_simple(texts) == per_id(texts)


def test_every_plain_safe_simple_id_stays_plain():
    assert scalars.all_simple(["conv_1", "a/b.c-d", "yes1", "nn"])
    assert not scalars.all_simple(["conv_1", "y"])
