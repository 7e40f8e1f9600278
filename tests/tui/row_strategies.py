"""Small tables of LayerRow for the row model's property tests (hypothesis)."""

from __future__ import annotations

from hypothesis import strategies as st

from quanted.core.document.layers import LayerRow

ENTROPY = st.one_of(st.just({}), st.fixed_dictionaries(
    {"out0": st.sampled_from([0.1, 0.5, 0.9])}))


@st.composite
def layer_rows(draw, ids: st.SearchStrategy[str], max_size: int,
               some_not_in_file: bool = False) -> list[LayerRow]:
    """1 to `max_size` rows of distinct ids drawn from `ids`, each with an out0 entropy or
    none, in file order; `some_not_in_file`: rows other than the first may lack tensors."""
    found = []
    for order, layer in enumerate(draw(st.lists(ids, min_size=1, max_size=max_size,
                                                unique=True))):
        entropy = draw(ENTROPY)
        in_file = (draw(st.booleans()) or order == 0) if some_not_in_file else True
        found.append(LayerRow(layer, [f"@{layer}:out0"], entropy, order=order, in_file=in_file))
    return found
