"""Putting back the comments a pegasus --hybrid run dropped (it re-dumps the whole file)."""

from __future__ import annotations

from quanted.core.document import comments
from quanted.core.document.model import QuantizeDocument
from tests.core.docs import v2_doc

USER = (
    "customized_quantize_layers:\n"
    "  # from the 2026-11 accuracy run\n"
    "  c1_8: dynamic_fixed_point-i16  # worst activation\n"
    "  c2_6: float16  # try bf16 next\n"
    "  logits_2: dynamic_fixed_point-i16\n"
    "  # keep these three together\n"
)
# What the engine writes back: same layers minus c2_6 (say the user's pegasus dropped it),
# re-ordered, no comments.
ENGINE = (
    "customized_quantize_layers:\n"
    "  logits_2: dynamic_fixed_point-i16\n"
    "  c1_8: dynamic_fixed_point-i16\n"
)


def test_comments_go_back_to_their_layers_and_orphans_to_the_top():
    before = QuantizeDocument(v2_doc(customized=USER).encode())
    after = QuantizeDocument(v2_doc(customized=ENGINE).encode())
    placed = comments.carry_over(comments.collect(before.block_state), after)
    assert placed == 4
    assert after.block_text() == (
        "customized_quantize_layers:\n"
        "  # try bf16 next (was on c2_6)\n"
        "  # keep these three together\n"
        "  logits_2: dynamic_fixed_point-i16\n"
        "  # from the 2026-11 accuracy run\n"
        "  c1_8: dynamic_fixed_point-i16  # worst activation\n"
    )
    assert after.undo() and after.block_text() == ENGINE  # one undo step


def test_nothing_is_duplicated_when_the_comments_survived():
    before = QuantizeDocument(v2_doc(customized=USER).encode())
    same = QuantizeDocument(v2_doc(customized=USER).encode())
    assert comments.carry_over(comments.collect(before.block_state), same) == 0
    assert not same.is_modified


def test_comments_collected_with_their_owner():
    doc = QuantizeDocument(v2_doc(customized=USER).encode())
    assert [(c.layer, c.text, c.trailing) for c in comments.collect(doc.block_state)] == [
        ("c1_8", "from the 2026-11 accuracy run", False),
        ("c1_8", "worst activation", True),
        ("c2_6", "try bf16 next", True),
        (None, "keep these three together", False),
    ]
