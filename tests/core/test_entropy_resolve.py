"""One resolver decides which entropy report belongs to a .quantize file;
reports saved before hybrid runs keep a customized layer's entropy (item 5)."""

from __future__ import annotations

import json
import os

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport, earlier_reports, names_beside, resolve
from quanted.core.state.history import History
from quanted.core.document.layers import build_rows
from tests.core.docs import v2_doc


def test_names_most_specific_first(tmp_path):
    assert names_beside(tmp_path / "tinynet_uint8.quantize") == [
        "tinynet_uint8_entropy.txt", "tinynet_uint8.entropy.txt",
        "tinynet_entropy.txt", "tinynet.entropy.txt", "entropy.txt"]


@pytest.mark.parametrize("name", ["khadas_mobilenet_tf_entropy.txt",
                                  "khadas_mobilenet_tf.entropy.txt", "entropy.txt"])
def test_each_name_is_found(public_copy, name):
    quantize = public_copy("khadas_mobilenet_tf.quantize")
    public_copy("khadas_mobilenet_tf_entropy.txt", name)
    found = resolve(quantize)
    assert found.path == quantize.parent / name and found.note is None


def test_none_found_says_where_it_looked_and_what_is_there(tmp_path):
    quantize = tmp_path / "m_uint8.quantize"
    (tmp_path / "other_entropy.txt").write_text("@a:out0, 0.1\n")
    note = resolve(quantize).note
    assert note == ("no entropy report found (looked for m_uint8_entropy.txt, "
                    "m_uint8.entropy.txt, m_entropy.txt, m.entropy.txt, entropy.txt); "
                    "other_entropy.txt is there but not named for this file")


def test_given_path_wins_and_a_newer_one_is_mentioned(tmp_path):
    quantize = tmp_path / "m.quantize"
    mine, engine = tmp_path / "m_entropy.txt", tmp_path / "entropy.txt"
    mine.write_text("@a:out0, 0.1\n")
    engine.write_text("@a:out0, 0.2\n")
    os.utime(mine, ns=(1_000_000_000, 1_000_000_000))
    found = resolve(quantize)
    assert found.path == mine
    assert found.note == ("using m_entropy.txt; entropy.txt beside it is newer "
                          "(open it to use it instead)")
    assert resolve(quantize, engine).path == engine


def test_the_cli_uses_the_resolver(public_copy, capsys):
    quantize = public_copy("khadas_mobilenet_tf.quantize")
    assert main(["layers", str(quantize), "--top", "1"]) == 0
    out, err = capsys.readouterr()
    assert "no entropy report found (looked for khadas_mobilenet_tf_entropy.txt" in err
    assert out.splitlines()[1:] == []  # no entropy, so no layer is among the worst
    public_copy("khadas_mobilenet_tf_entropy.txt")
    assert main(["layers", str(quantize), "--top", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and len(json.loads(out)) == 1


def test_a_customized_layer_keeps_the_entropy_it_was_chosen_with(tmp_path):
    quantize = tmp_path / "m_uint8.quantize"
    quantize.write_text(v2_doc(customized="customized_quantize_layers:\n  c2_6: float16\n"))
    before = tmp_path / "entropy.txt"
    before.write_text("@c1_8:out0, 0.2\n@c2_6:out0, 0.61\n")
    History(quantize).save_copy("entropy-before-hybrid", source=before)
    # the hybrid run's report: the float16 layer is gone from it
    before.write_text("@c1_8:out0, 0.2\n")
    earlier = earlier_reports(quantize)
    assert len(earlier) == 1 and earlier[0][0].startswith("entropy.txt before the hybrid run of ")
    rows = {r.layer: r for r in build_rows(QuantizeDocument.open(quantize),
                                            EntropyReport.read(before), earlier)}
    assert rows["c2_6"].entropy == {"out0": 0.61}
    assert rows["c2_6"].entropy_from == earlier[0][0]
    assert rows["c1_8"].entropy_from is None and rows["logits_2"].entropy == {}
