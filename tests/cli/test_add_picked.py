"""`quanted add --above/--top` picks its layers first (the file's layer index and the entropy
rows, cli/selection.pick), lets all of that go, then adds them as an ordinary add that reads
the file again under the same lock. What it prints and writes is what the one-document path
(rows from the whole document, the add on that same document) printed and wrote."""

from __future__ import annotations

import shutil
import weakref
from pathlib import Path

import pytest

from quanted.cli import selection
from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport
from quanted.core.document.layers import build_rows, candidates
from quanted.core.format.qtypes import DEFAULT_QTYPE
from quanted.core.format.tensor_index import TensorIndex
from tests.conftest import public
from tests.core.docs import V2_HEADER, v2_tensor

CONVERTER = "blk:2/conv_2_pre_asymmetric_affineu8_to_float16float16_41"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """A verdict cache of this test's own: the add's second open recalls the pick's scan."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _generated(folder: Path) -> tuple[Path, Path]:
    """Layers the pick must tell apart: a converter (never picked), ids with ':' and quotes,
    customized layers (changed, unchanged), layers only the report names, a key not of the
    form '@LAYER:PORT', a layer whose tensors are apart."""
    layers = [f"blk:{i}/conv_{i}" for i in range(30)] + [CONVERTER, "it's", "a"]
    keys = [f"@{layer}:{port}" for layer in layers for port in ("out0", "weight")]
    keys += ["@a:extra", "plain:out0"]
    custom = ("customized_quantize_layers:\n  blk:3/conv_3: dynamic_fixed_point-i16\n"
              f"  blk:4/conv_4: {DEFAULT_QTYPE}\n  only_custom: float16\n")
    quantize = folder / "gen_uint8.quantize"
    quantize.write_text(V2_HEADER + "".join(v2_tensor(key) for key in keys) + custom
                        + "stable_quantize_tensors: {}\n")
    lines = [f"@{layer}:out0, {0.02 * i!r}" for i, layer in enumerate(layers) if i % 5]
    lines += [f"@{layer}:weight, {0.6 - 0.02 * i!r}" for i, layer in enumerate(layers) if i % 3]
    lines += [f"@{CONVERTER}:out0, 0.99", "@only_report:out0, 0.95", "plain:out0, 0.9"]
    entropy = folder / "gen_entropy.txt"
    entropy.write_text("\n".join(lines) + "\n")
    return quantize, entropy


def _cases(folder: Path) -> list[tuple[Path, Path]]:
    public_copy = folder / "khadas_mobilenet_tf.quantize"
    shutil.copyfile(public("khadas_mobilenet_tf.quantize"), public_copy)
    return [_generated(folder), (public_copy, public("khadas_mobilenet_tf_entropy.txt"))]


def _one_document_add(path: Path, entropy: Path, above: float | None, top: int | None,
                      named: list[str]) -> list[str]:
    """The one-document path: rows from the whole document, then the add on that document."""
    doc = QuantizeDocument.open(path)
    rows = build_rows(doc, EntropyReport.read(entropy))
    layers = list(dict.fromkeys([*named, *(row.layer for row in candidates(rows, above, top))]))
    before = doc.customized
    doc.set_layers(dict.fromkeys(layers, DEFAULT_QTYPE))
    if doc.is_modified:
        doc.save()
    return [f"added {layer}: {DEFAULT_QTYPE}" if before.get(layer) is None
            else f"unchanged {layer}: {DEFAULT_QTYPE}" if before[layer] == DEFAULT_QTYPE
            else f"changed {layer}: {before[layer]} -> {DEFAULT_QTYPE}" for layer in layers]


@pytest.mark.parametrize("case", [0, 1])
@pytest.mark.parametrize("selection_args", [
    ("--top", "5"), ("--above", "0.3"), ("--above", "0.3", "--top", "3"), ("--top", "0"),
    ("--above", "0.5", "--top", "400"), ("--top", "4", "NAMED"),
])
def test_the_picked_then_added_file_is_what_the_one_document_path_wrote(
        tmp_path, capsys, case, selection_args):
    quantize, entropy = _cases(tmp_path)[case]
    expected_file = tmp_path / "expected.quantize"
    shutil.copyfile(quantize, expected_file)
    args = list(selection_args)
    above = float(args[args.index("--above") + 1]) if "--above" in args else None
    top = int(args[args.index("--top") + 1]) if "--top" in args else None
    named = []
    if "NAMED" in args:  # a layer named beside the pick, low in the ranking
        named = [QuantizeDocument.open(quantize).layer_ids[-1]]
        args.remove("NAMED")
    expected = _one_document_add(expected_file, entropy, above, top, named)
    capsys.readouterr()
    assert main(["add", str(quantize), *named, "-e", str(entropy), *args]) == 0
    assert capsys.readouterr().out == "\n".join(expected) + "\n"
    assert quantize.read_bytes() == expected_file.read_bytes()


def test_the_pick_lets_go_of_its_document_before_the_add_reads_the_file(
        tmp_path, monkeypatch, capsys):
    """Two reads, never both documents at once, and one layer index (the pick's): the add
    itself builds none, its layers come from the very version they were picked from."""
    quantize, entropy = _generated(tmp_path)
    opened: list[weakref.ref[QuantizeDocument]] = []
    alive_at_open: list[int] = []
    real_open = QuantizeDocument.open.__func__  # type: ignore[attr-defined]

    def open_(cls, *args, **kwargs):
        alive_at_open.append(sum(ref() is not None for ref in opened))
        doc = real_open(cls, *args, **kwargs)
        opened.append(weakref.ref(doc))
        return doc

    indexes = []
    real_of = TensorIndex.of.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(QuantizeDocument, "open", classmethod(open_))
    monkeypatch.setattr(TensorIndex, "of",
                        classmethod(lambda cls, doc: (indexes.append(len(doc.data)),
                                                      real_of(cls, doc))[1]))
    assert main(["add", str(quantize), "-e", str(entropy), "--top", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert alive_at_open == [0, 0]
    assert len(indexes) == 1


def test_a_picked_layer_another_program_removed_meanwhile_is_an_unknown_layer(
        tmp_path, monkeypatch, capsys):
    """Between the pick and the add's read (quanted's own edits wait for the lock; another
    program need not): the add refuses, as for any layer the file lacks, and writes nothing."""
    quantize, entropy = _generated(tmp_path)
    real_pick = selection.pick
    gone, rewritten = [], []

    def pick_then_rewrite(args):
        picked = real_pick(args)
        gone.append(picked.layers[0])
        text = quantize.read_text()  # its keys renamed, '@LAYER:PORT' or odd
        rewritten.append(text.replace(f"'@{gone[0]}:", "'@renamed:")
                         .replace(f"'{gone[0]}:", "'renamed:"))
        quantize.write_text(rewritten[0])
        return picked

    monkeypatch.setattr(selection, "pick", pick_then_rewrite)
    assert main(["add", str(quantize), "-e", str(entropy), "--top", "2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"quanted: error: {quantize}: layer {gone[0]!r} is not in quantize_parameters"]
    assert "renamed:out0'" in rewritten[0]
    assert quantize.read_text() == rewritten[0]


def test_a_named_layer_the_file_lacks_beside_the_pick_is_refused(tmp_path, capsys):
    quantize, entropy = _generated(tmp_path)
    before = quantize.read_bytes()
    assert main(["add", str(quantize), "blk:1/conv_x", "-e", str(entropy), "--top", "2",
                 "--qtype", "bogus"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"quanted: error: {quantize}: unknown qtype 'bogus'")
    assert err[1] == (f"quanted: error: {quantize}: layer 'blk:1/conv_x' is not in "
                      "quantize_parameters; did you mean 'blk:1/conv_1'?")
    assert quantize.read_bytes() == before
