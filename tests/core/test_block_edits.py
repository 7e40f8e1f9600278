"""Edits touch only the customized block, keep comments, and undo exactly."""

from __future__ import annotations

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import EditError
from tests.core.docs import legacy_doc, v2_doc

COMMENTED = (
    "customized_quantize_layers:\n"
    "  # layers the 2026-11 accuracy run flagged\n"
    "  c1_8: dynamic_fixed_point-i16  # worst activation\n"
    "  # keep logits in 16 bit\n"
    "  logits_2: dynamic_fixed_point-i16\n"
    "  c2_6: float16   # tried bf16 first\n"
)


def doc_of(text: str) -> QuantizeDocument:
    return QuantizeDocument(text.encode())


def test_empty_flow_block_becomes_a_block_and_back_to_exactly_braces():
    text = v2_doc()
    doc = doc_of(text)
    doc.set_layer("c2_6", "dynamic_fixed_point-i16")
    edited = doc.to_bytes().decode()
    assert "customized_quantize_layers:\n  c2_6: dynamic_fixed_point-i16\nstable" in edited
    doc.remove_layer("c2_6")
    assert doc.to_bytes() == text.encode()


def test_removing_the_last_layer_of_a_block_writes_braces():
    text = v2_doc(customized="customized_quantize_layers:\n  c2_6: dynamic_fixed_point-i16\n")
    doc = doc_of(text)
    doc.remove_layer("c2_6")
    edited = doc.to_bytes().decode()
    assert "customized_quantize_layers: {}\nstable_quantize_tensors: {}\n" in edited


def test_remove_keeps_every_other_comment():
    text = v2_doc(customized=COMMENTED)
    doc = doc_of(text)
    doc.remove_layer("c1_8")
    expected = text.replace("  c1_8: dynamic_fixed_point-i16  # worst activation\n", "")
    assert doc.to_bytes().decode() == expected
    # The comment above logits_2 stays above logits_2, not moved to a neighbour.
    doc.remove_layer("c2_6")
    assert "  # keep logits in 16 bit\n  logits_2:" in doc.to_bytes().decode()


def test_changing_a_qtype_keeps_the_comment_and_spacing():
    doc = doc_of(v2_doc(customized=COMMENTED))
    doc.set_layer("c2_6", "bfloat16")
    assert "  c2_6: bfloat16   # tried bf16 first\n" in doc.block_text()


def test_attach_replace_and_drop_a_comment():
    text = v2_doc(customized=COMMENTED)
    doc = doc_of(text)
    doc.set_comment("logits_2", "16 bit logits")
    assert "  logits_2: dynamic_fixed_point-i16  # 16 bit logits\n" in doc.block_text()
    doc.set_comment("c1_8", "still worst")
    assert "  c1_8: dynamic_fixed_point-i16  # still worst\n" in doc.block_text()
    doc.set_comment("logits_2", None)
    doc.set_comment("c1_8", "worst activation")
    assert doc.to_bytes().decode() == text
    assert doc.comments() == {"c1_8": "worst activation", "c2_6": "tried bf16 first"}


def test_comment_on_a_layer_not_in_the_block_is_refused():
    doc = doc_of(v2_doc())
    with pytest.raises(EditError):
        doc.set_comment("c1_8", "x")
    with pytest.raises(EditError):
        doc.remove_layer("c1_8")


def test_crlf_file_stays_crlf():
    text = v2_doc(customized="customized_quantize_layers:\n  c1_8: float16\n").replace("\n", "\r\n")
    doc = doc_of(text)
    doc.set_layer("c2_6", "dynamic_fixed_point-i16")
    out = doc.to_bytes().decode()
    assert "  c1_8: float16\r\n  c2_6: dynamic_fixed_point-i16\r\nstable" in out
    assert "\n" not in out.replace("\r\n", "")
    doc.remove_layer("c2_6")
    assert doc.to_bytes() == text.encode()


def test_crlf_empty_block():
    text = v2_doc().replace("\n", "\r\n")
    doc = doc_of(text)
    doc.set_layer("c1_8", "float16")
    assert "customized_quantize_layers:\r\n  c1_8: float16\r\n" in doc.to_bytes().decode()
    doc.remove_layer("c1_8")
    assert doc.to_bytes() == text.encode()


def test_block_at_end_of_file_without_final_newline():
    text = v2_doc(stable=False).rstrip("\n")
    doc = doc_of(text)
    doc.set_layer("c1_8", "float16")
    assert doc.to_bytes().decode().endswith("customized_quantize_layers:\n  c1_8: float16")
    doc.remove_layer("c1_8")
    assert doc.to_bytes() == text.encode()


def test_legacy_and_rknn_order_use_four_spaces():
    for rknn in (False, True):
        text = legacy_doc(rknn=rknn)
        doc = doc_of(text)
        doc.set_layer("attach_input/out0_1", "float32")
        assert "\n    attach_input/out0_1: float32\n" in doc.to_bytes().decode()
        doc.remove_layer("attach_input/out0_1")
        assert doc.to_bytes() == text.encode()
        assert doc.tensor_keys == ["@attach_input/out0_1:out0",
                                   "@MobilenetV1/Logits/AvgPool_1a/AvgPool_7:out0"]


def test_empty_legacy_block_gets_the_files_indent():
    doc = doc_of(legacy_doc(customized="customized_quantize_layers: {}\n"))
    doc.set_layer("attach_input/out0_1", "float32")
    edited = doc.to_bytes().decode()
    assert "customized_quantize_layers:\n    attach_input/out0_1: float32\n" in edited


def test_keys_that_need_quotes_are_quoted_and_read_back():
    doc = doc_of(v2_doc(layers=("true", "a: b", "x#y", "it's")))
    for layer in ("true", "a: b", "it's"):
        doc.set_layer(layer, "float16")
    again = QuantizeDocument(doc.to_bytes())
    assert again.customized == {"true": "float16", "a: b": "float16", "it's": "float16"}
    assert "  'true': float16\n" in again.block_text()


def test_flow_block_with_entries_is_expanded_on_edit():
    doc = doc_of(v2_doc(customized="customized_quantize_layers: {c1_8: float16}\n"))
    assert doc.customized == {"c1_8": "float16"}
    doc.set_layer("c2_6", "bfloat16")
    assert doc.block_text() == "customized_quantize_layers:\n  c1_8: float16\n  c2_6: bfloat16\n"


def test_undo_redo_and_batches():
    text = v2_doc()
    doc = doc_of(text)
    doc.set_layer("c1_8", "float16")
    with doc.batch():
        doc.set_layer("c2_6", "float16")
        doc.set_layer("logits_2", "float16")
    assert len(doc.customized) == 3
    assert doc.undo()
    assert doc.customized == {"c1_8": "float16"}
    assert doc.redo()
    assert len(doc.customized) == 3
    doc.undo()
    doc.undo()
    assert not doc.is_modified and doc.to_bytes() == text.encode()
    assert not doc.undo()
    doc.set_layer("c2_6", "float32")
    assert not doc.can_redo()


def test_duplicate_keys_in_block_are_read_and_removed_together():
    text = v2_doc(customized="customized_quantize_layers:\n  c1_8: float16\n  c1_8: float32\n")
    doc = doc_of(text)
    from quanted.core.format.validate import check

    assert any("more than once" in p.message for p in check(doc))
    doc.remove_layer("c1_8")
    assert doc.customized == {}


def test_set_layers_is_one_step_and_matches_one_by_one():
    text = v2_doc(customized=COMMENTED)
    bulk, single = doc_of(text), doc_of(text)
    wanted = {"c2_6": "bfloat16", "logits_2": "float32",
              "features/features.9/conv/conv.2/Conv_output_0_8": "float16"}
    bulk.set_layers(wanted)
    for layer, qtype in wanted.items():
        single.set_layer(layer, qtype)
    assert bulk.to_bytes() == single.to_bytes()
    assert bulk.undo() and bulk.to_bytes() == text.encode()


def test_set_layers_at_end_of_file_without_newline():
    text = v2_doc(stable=False).rstrip("\n")
    doc = doc_of(text)
    doc.set_layers({"c1_8": "float16", "c2_6": "float16"})
    edited = doc.to_bytes().decode()
    assert edited.endswith("customized_quantize_layers:\n  c1_8: float16\n  c2_6: float16")
    doc.remove_layer("c2_6")
    doc.remove_layer("c1_8")
    assert doc.to_bytes() == text.encode()


def test_saved_comments_follow_saves(tmp_path):
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(customized=COMMENTED))
    doc = QuantizeDocument.open(path)
    doc.set_comment("logits_2", "new")
    assert doc.saved_comments() == {"c1_8": "worst activation", "c2_6": "tried bf16 first"}
    doc.save()
    assert doc.saved_comments()["logits_2"] == "new"
