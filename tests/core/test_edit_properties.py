"""Hypothesis: any sequence of edits, undos and redos matches a plain-dict reference model,
never changes a byte outside the customized block, and always re-reads as valid YAML."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.format import qtypes
from quanted.core.document.model import QuantizeDocument
from tests.core.docs import legacy_doc, v2_doc

LAYERS = ["c1_8", "c2_6", "logits_2", "features/features.9/conv/conv.2/Conv_output_0_8"]
COMMENTED = (
    "customized_quantize_layers:\n"
    "  # flagged by the first accuracy run\n"
    "  c1_8: dynamic_fixed_point-i16  # worst activation\n"
    "  logits_2: float16\n"
    "  # trailing note\n"
)
STARTS = {
    "v2-empty": v2_doc(layers=LAYERS),
    "v2-commented": v2_doc(layers=LAYERS, customized=COMMENTED),
    "v2-crlf": v2_doc(layers=LAYERS, customized=COMMENTED).replace("\n", "\r\n"),
    "v2-no-final-newline": v2_doc(layers=LAYERS, stable=False).rstrip("\n"),
    "v2-block-last-no-newline": v2_doc(layers=LAYERS, customized=COMMENTED,
                                       stable=False).rstrip("\n"),
    "legacy": legacy_doc(),
    "rknn": legacy_doc(rknn=True),
}
LEGACY_LAYERS = ["attach_input/out0_1", "MobilenetV1/Logits/AvgPool_1a/AvgPool_7"]

comment_text = st.text(alphabet="abc xyz-#:'", min_size=1, max_size=12).map(str.strip).filter(bool)
edit = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 3), st.sampled_from(qtypes.KNOWN_QTYPES)),
    st.tuples(st.just("remove"), st.integers(0, 3), st.none()),
    st.tuples(st.just("comment"), st.integers(0, 3), st.one_of(st.none(), comment_text)),
    st.tuples(st.just("bulk"), st.integers(0, 3), st.sampled_from(qtypes.KNOWN_QTYPES)),
    st.tuples(st.just("undo"), st.none(), st.none()),
    st.tuples(st.just("redo"), st.none(), st.none()),
)


def _reference_state(doc: QuantizeDocument) -> tuple[dict[str, str], dict[str, str]]:
    return dict(doc.customized), dict(doc.comments())


@settings(max_examples=300, deadline=None)
@given(start=st.sampled_from(sorted(STARTS)), edits=st.lists(edit, max_size=25))
def test_edit_sequences_match_the_reference_model(start, edits):
    text = STARTS[start]
    layers = LEGACY_LAYERS if start in ("legacy", "rknn") else LAYERS
    original = text.encode()
    doc = QuantizeDocument(original)
    block_start = doc.scan.entries["customized_quantize_layers"].start
    block_end = doc.scan.entries["customized_quantize_layers"].end
    prefix, suffix = original[:block_start], original[block_end:]

    model = _reference_state(doc)
    history = [model]
    position = 0
    for op, index, arg in edits:
        layer = layers[index % len(layers)] if index is not None else None
        customized, comments = (dict(history[position][0]), dict(history[position][1]))
        if op == "set":
            customized[layer] = arg
            doc.set_layer(layer, arg)
        elif op == "bulk":
            chosen = {layers[i % len(layers)]: arg for i in range(index + 1)}
            customized.update(chosen)
            doc.set_layers(chosen)
        elif op == "remove":
            if layer not in customized:
                continue
            del customized[layer]
            comments.pop(layer, None)
            doc.remove_layer(layer)
        elif op == "comment":
            if layer not in customized:
                continue
            if arg:
                comments[layer] = arg
            else:
                comments.pop(layer, None)
            doc.set_comment(layer, arg)
        elif op == "undo":
            if doc.undo():
                position -= 1
            continue
        elif op == "redo":
            if doc.redo():
                position += 1
            continue
        if (customized, comments) != history[position]:
            del history[position + 1 :]
            history.append((customized, comments))
            position += 1
        assert _reference_state(doc) == history[position]

    assert _reference_state(doc) == history[position]
    out = doc.to_bytes()
    # Nothing outside the block ever changes.
    assert out.startswith(prefix) and out.endswith(suffix)
    # The result is a .quantize file quanted and a YAML parser both read the same way.
    again = QuantizeDocument(out)
    assert _reference_state(again) == history[position]
    parsed = yaml.load(out, Loader=yaml.CSafeLoader)
    assert {k: str(v) for k,
            v in (parsed["customized_quantize_layers"] or {}).items()} == history[position][0]
    # Back at the start of history means back to the original bytes.
    if position == 0:
        assert out == original
