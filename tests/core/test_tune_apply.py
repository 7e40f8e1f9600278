"""The found set written into a document: one undoable edit of the customized block only,
each added line saying why it is there."""

from __future__ import annotations

from quanted.core.document.model import QuantizeDocument
from quanted.core.tune.apply import write_into
from quanted.core.tune.rank import ENTROPY, Ranking
from tests.conftest import SAMPLE

CONV2 = "layer3/layer3.0/conv2/Conv_output_0_7"
ADD12 = "layer2/layer2.1/Add_output_0_12"


def test_write_into_is_one_undoable_edit_of_the_block():
    doc = QuantizeDocument.open(SAMPLE / "tinynet_uint8.quantize")
    original = doc.to_bytes()
    ranking = Ranking([CONV2, ADD12], ENTROPY, {CONV2: 0.7445, ADD12: 0.50614})
    removed, added = write_into(doc, {CONV2: "dynamic_fixed_point-i16",
                                      ADD12: "dynamic_fixed_point-i16"}, ranking)
    assert added == [ADD12] and CONV2 not in removed and len(removed) == 6
    assert doc.customized == {CONV2: "dynamic_fixed_point-i16", ADD12: "dynamic_fixed_point-i16"}
    text = doc.to_bytes().decode()
    assert f"  {ADD12}: dynamic_fixed_point-i16  # tune: drop=-, entropy=0.5061\n" in text
    assert f"  {CONV2}: dynamic_fixed_point-i16\n" in text  # kept as it was
    block = doc.scan.entries
    assert text[: block["customized_quantize_layers"].start] == \
        original.decode()[: block["customized_quantize_layers"].start]
    assert doc.undo() and doc.to_bytes() == original and not doc.can_undo()
