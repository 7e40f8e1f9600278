"""Attempts from the history: ids, the list, diff, restore (byte-faithful, refusals), and the
carry-over of a user's list onto a rebuilt file."""

from __future__ import annotations

import json

import pytest

from quanted.core.state import timeline
from quanted.core.document.carryover import carry_customized
from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import EditError
from quanted.core.state.history import History
from tests.core.docs import legacy_doc, v2_doc

USER_BLOCK = ("customized_quantize_layers:\n"
              "  # the worst activations\n"
              "  c2_6: dynamic_fixed_point-i16  # entropy 0.74\n"
              "  logits_2: float16\n")


@pytest.fixture
def path(tmp_path):
    target = tmp_path / "m_uint8.quantize"
    target.write_text(v2_doc(customized=USER_BLOCK))
    return target


def test_ids_are_short_numbers_in_order_and_old_lines_get_their_stamp(path):
    history = History(path)
    history.folder.mkdir(parents=True)
    legacy = {"time": "20260101-000000-000001", "kind": "verify", "file": None,
              "data": {"customized": {}}}
    (history.folder / "history.jsonl").write_text(json.dumps(legacy) + "\n")
    first = history.record("quantize", {"customized": {"c2_6": "float16"}})
    copy = history.save_copy("before-hybrid", {"customized": {}})
    second = history.record("hybrid", {"customized": {}})
    assert (first.id, second.id) == ("1", "3")
    assert copy.is_file()
    assert [e.id for e in history.entries()] == ["20260101-000000-000001", "1", "2", "3"]
    assert history.find("2").kind == "before-hybrid"
    assert history.find("20260101-000000-000001").kind == "verify"
    assert history.find("9") is None


def test_attempts_list_only_runs_with_iso_times_and_figures(path):
    history = History(path)
    history.save_copy("before-hybrid", {"customized": {}})
    history.record("quantize", {"customized": {"c2_6": "x"}, "algorithm": "kl_divergence"})
    history.record("verify", {"customized": {}, "iterations": 2,
                              "summary": {"quantized": {"mean_cosine": 0.5, "top1_agree": 1,
                                                        "count": 2}}})
    history.record("tune", {"customized": {}, "summary": {"mean_cosine": 0.9}})
    items = timeline.attempts(path)
    assert [a.kind for a in items] == ["quantize", "verify", "tune"]
    quantize = items[0].to_json()
    assert quantize["algorithm"] == "kl_divergence" and quantize["figures"] is None
    assert quantize["time"][:4].isdigit() and "T" in quantize["time"]
    assert items[1].mean_cosine == 0.5 and items[1].details == {"iterations": 2}
    assert items[2].mean_cosine == 0.9
    assert timeline.best_of(path, items) is items[1]  # verify's rule: verified attempts only


def test_diff_reports_added_removed_retyped():
    a = timeline.Attempt("1", "verify", "", {"x": "float16", "y": "i16", "z": "q"}, None, None, {})
    b = timeline.Attempt("2", "verify", "", {"x": "bfloat16", "z": "q", "w": "i16"}, None, None,
                         {})
    changes = timeline.diff(a, b)
    assert changes.added == {"w": "i16"}
    assert changes.removed == {"y": "i16"}
    assert changes.retyped == {"x": ("float16", "bfloat16")}
    text = "\n".join(changes.lines())
    assert "+ w: i16" in text and "- y: i16" in text and "~ x: float16 -> bfloat16" in text


def test_restore_gives_back_the_recorded_block_byte_for_byte_as_one_undo(path):
    original = path.read_bytes()
    doc = QuantizeDocument.open(path)
    attempt_id = History(path).record("hybrid", {"customized": doc.customized,
                                                 "block": doc.block_text()}).id
    doc.remove_layer("logits_2")
    doc.set_layer("c1_8", "float16")
    doc.set_comment("c2_6", "changed my mind")
    doc.save()
    assert path.read_bytes() != original
    doc = QuantizeDocument.open(path)
    timeline.restore(doc, timeline.find(path, attempt_id))
    assert doc.to_bytes() == original
    assert doc.undo() and b"changed my mind" in doc.to_bytes()


def test_restore_from_a_copy_when_no_block_was_recorded(path):
    original = path.read_bytes()
    copy = History(path).save_copy("before-quantize", {"customized": {"c2_6": "x"}})
    assert copy.is_file()
    path.write_text(v2_doc())
    doc = QuantizeDocument.open(path)
    timeline.restore(doc, timeline.find(path, "1"))
    assert doc.to_bytes() == original


def test_restore_without_block_or_copy_sets_exactly_the_entries(path):
    History(path).record("verify", {"customized": {"c1_8": "float16"}})
    doc = QuantizeDocument.open(path)
    timeline.restore(doc, timeline.find(path, "1"))
    assert doc.customized == {"c1_8": "float16"}


def test_restore_refuses_layers_the_file_no_longer_has(path):
    History(path).record("hybrid", {"customized": {"gone_1": "float16", "c2_6": "float16"},
                                    "block": "customized_quantize_layers:\n  gone_1: float16\n"})
    doc = QuantizeDocument.open(path)
    with pytest.raises(EditError, match=r"1 of its layer\(s\) are not in this file any more "
                                        r"\(gone_1\); nothing changed"):
        timeline.restore(doc, timeline.find(path, "1"))
    assert not doc.is_modified


def test_unknown_attempt_names_the_ids(path):
    History(path).record("verify", {"customized": {}})
    with pytest.raises(timeline.UnknownAttempt, match=r"no attempt '7'.*ids: 1"):
        timeline.find(path, "7")


def test_restore_keeps_the_block_valid_when_it_moves_before_other_keys(tmp_path):
    path = tmp_path / "m.quantization.cfg"
    path.write_text(legacy_doc(rknn=True))  # the block comes first, then quantize_parameters
    doc = QuantizeDocument.open(path)
    doc.replace_block("customized_quantize_layers:\n"
                      "    MobilenetV1/Logits/AvgPool_1a/AvgPool_7: float16")  # no last newline
    doc.save()
    reread = QuantizeDocument.open(path)
    assert reread.customized == {"MobilenetV1/Logits/AvgPool_1a/AvgPool_7": "float16"}


def test_carry_over_keeps_the_users_entries_and_comments_and_lists_the_gone(tmp_path):
    old_path = tmp_path / "old.quantize"
    old_path.write_text(v2_doc(customized=USER_BLOCK + "  gone_9: float16  # was useful\n"))
    new_path = tmp_path / "new.quantize"
    new_path.write_text(v2_doc(customized="customized_quantize_layers:\n"
                                          "  c1_8: dynamic_fixed_point-i16\n"
                                          "  logits_2: dynamic_fixed_point-i16\n"))
    old, new = QuantizeDocument.open(old_path), QuantizeDocument.open(new_path)
    carry = carry_customized(old, new)
    assert carry.carried == {"c2_6": "dynamic_fixed_point-i16", "logits_2": "float16"}
    assert carry.kept == []
    assert carry.missing == {"gone_9": "float16"}
    assert new.customized == {"c1_8": "dynamic_fixed_point-i16", "logits_2": "float16",
                              "c2_6": "dynamic_fixed_point-i16"}
    text = new.block_text()
    assert "  # the worst activations\n  c2_6: dynamic_fixed_point-i16  # entropy 0.74\n" in text
    assert "was useful (was on gone_9)" in text
    assert "not carried over: gone_9: float16" in "\n".join(carry.lines())
    assert new.undo() and new.customized == {"c1_8": "dynamic_fixed_point-i16",
                                             "logits_2": "dynamic_fixed_point-i16"}


def test_carry_over_tells_entries_the_new_file_already_has(tmp_path):
    same = "customized_quantize_layers:\n  c1_8: dynamic_fixed_point-i16\n"
    old_path, new_path = tmp_path / "old.quantize", tmp_path / "new.quantize"
    old_path.write_text(v2_doc(customized=same))
    new_path.write_text(v2_doc(customized=same))
    new = QuantizeDocument.open(new_path)
    carry = carry_customized(QuantizeDocument.open(old_path), new)
    assert (carry.carried, carry.kept, carry.missing) == ({}, ["c1_8"], {})
    assert not new.is_modified
    assert carry.lines() == ["the new file already has the old file's 1 entries"]
