"""The core plans each engine step from an open document (no file is read again), and the
document answers the questions the drivers used to answer themselves: the unsaved changes,
the tensors' qtypes by layer."""

from __future__ import annotations

import stat

import pytest

from quanted.core.format.block import ADDED, CHANGED, REMOVED
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import hybrid
from quanted.core.engine.discovery import EngineNotFound
from tests.core.docs import v2_doc

BLOCK = ("customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16  # mine\n"
         "  c2_6: dynamic_fixed_point-i16\n  ghost_9: float16\n")


@pytest.fixture
def model(tmp_path, monkeypatch):
    """NAME_uint8.quantize with NAME.json/.data/_inputmeta.yml and an executable `pegasus`."""
    for name in ("m.json", "m.data", "m_inputmeta.yml"):
        (tmp_path / name).write_text("{}")
    program = tmp_path / "bin" / "pegasus"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(program.parent))
    monkeypatch.setenv("QUANTED_PEGASUS", "pegasus")
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc(customized=BLOCK))
    return path


def test_unsaved_changes_name_each_layer_once_removed_last():
    doc = QuantizeDocument(v2_doc(customized=BLOCK).encode(), "m.quantize")
    assert doc.unsaved_changes() == {}
    doc.remove_layer("c2_6")
    doc.set_layer("logits_2", "float16")
    doc.set_comment("c1_8", "changed")
    assert doc.unsaved_changes() == {"c1_8": CHANGED, "logits_2": ADDED, "c2_6": REMOVED}
    assert list(doc.unsaved_changes())[-1] == "c2_6"
    doc.undo()
    doc.undo()
    doc.undo()
    assert doc.unsaved_changes() == {}


def test_qtypes_by_layer_groups_tensor_qtypes_in_file_order():
    doc = QuantizeDocument(v2_doc(layers=("a_1", "b_2")).encode(), "m.quantize")
    grouped = doc.qtypes_by_layer()
    assert list(grouped) == ["a_1", "b_2"]
    assert [(t.key, t.port, t.quantizer, t.qtype) for t in grouped["a_1"]] == [
        ("@a_1:out0", "out0", "asymmetric_affine", "u8"),
        ("@a_1:weight", "weight", "asymmetric_affine", "u8")]
    flat = {t.key: (t.quantizer, t.qtype) for tensors in grouped.values() for t in tensors}
    assert flat == doc.tensor_qtypes()


def test_draft_and_plan_use_the_open_document(model, monkeypatch):
    doc = QuantizeDocument.open(model)
    opened = []
    monkeypatch.setattr(QuantizeDocument, "open", classmethod(lambda cls, p: opened.append(p)))
    draft = hybrid.draft(doc)
    assert draft.message is None and draft.text.startswith("pegasus quantize ")
    assert "--hybrid" in draft.text and "--model-quantize m_uint8.quantize" in draft.text
    assert any("ghost_9" in p.message for p in draft.problems)  # the check ran on doc
    the_plan = hybrid.plan(doc, draft.text)
    assert the_plan.doc is doc and the_plan.quantize == model.absolute()
    assert the_plan.problems == draft.problems and the_plan.errors
    assert opened == []


def test_a_printed_rebuild_line_becomes_hybrid_and_other_lines_run_as_written(model):
    doc = QuantizeDocument.open(model)
    printed = ("pegasus quantize --model m.json --model-data m.data --with-input-meta "
               "m_inputmeta.yml --rebuild --model-quantize m_uint8.quantize --iterations 3")
    command = hybrid.plan(doc, printed).command
    assert "--hybrid" in command and "--rebuild" not in command and "3" in command
    assert hybrid.plan(doc, "pegasus quantize --anything").command == [
        "pegasus", "quantize", "--anything"]
    with pytest.raises(EngineNotFound, match="no such program"):
        hybrid.plan(doc, "./missing-pegasus quantize")


def test_an_edit_is_checked_again(model):
    doc = QuantizeDocument.open(model)
    assert any(p.layer == "ghost_9" for p in hybrid.draft(doc).problems)
    doc.remove_layer("ghost_9")
    assert not any(p.layer == "ghost_9" for p in hybrid.draft(doc).problems)
