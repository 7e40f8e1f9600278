"""TensorIndex holds the table's keys by layer (shared port tuples) and answers what the list of
all keys answered: the grouping, which keys repeat, which are odd, whether a key is there."""

from __future__ import annotations

import inspect

from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.format import scanner
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.keys import layer_of, looks_like_tensor_key, split_tensor_key
from quanted.core.format.tensor_index import TensorIndex
from tests.conftest import public

KEYS = st.sampled_from(["@a:out0", "@a:weight", "a:out0", "@:x", "@x", "x", "@b:c:d", "b:c:d",
                        "@b:c:e", "::", "@@a:out0", "@a:", "a:", ":", "@b:c:out0", "@é:out0"])


def _expected(keys: list[str]):
    seen: set[str] = set()
    repeats = []
    for key in keys:
        if key in seen:
            repeats.append(key)
        seen.add(key)
    odd = [k for k in keys if not looks_like_tensor_key(k)]
    return scanner.group_by_layer(keys), repeats, odd


def _check(index: TensorIndex, keys: list[str]) -> None:
    grouped, repeats, odd = _expected(keys)
    by_layer = index.by_layer()
    assert list(by_layer) == list(grouped) and len(index) == len(grouped)
    assert {layer: list(found) for layer, found in by_layer.items()} == grouped
    assert index.repeats == repeats and index.layer_ids == list(grouped)
    assert all(map(index.has_layer, grouped)) and not index.has_layer("zz")
    assert index.odd_count == len(odd) and index.first_odd == (odd[0] if odd else None)
    probes = set(keys) | {"@a:out0", "@a:bias", "@zz:out0", "a:bias", "@b:c:z", "@wide:p99"}
    present = set(keys)
    for key in probes:
        assert (key in index) == (key in present), key


@given(st.lists(KEYS, max_size=12))
def test_every_reader_files_a_key_under_split_tensor_keys_layer(keys):
    """group_by_layer and layer_names inline layer_of for speed: the same rule all the same."""
    grouped: dict[str, list[str]] = {}
    for key in keys:
        assert layer_of(key) == split_tensor_key(key)[0], key
        grouped.setdefault(split_tensor_key(key)[0], []).append(key)
    assert scanner.group_by_layer(keys) == grouped
    assert scanner.layer_names(keys) == set(grouped)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(KEYS, max_size=10), max_size=3), st.integers(0, 70))
def test_the_index_answers_what_the_list_of_keys_answered(pieces, wide):
    # `wide` ports on one layer: past the shared-tuple limit its keys are held as a list
    keys = [k for piece in pieces for k in piece] + [f"@wide:p{i % 50}" for i in range(wide)]
    index = TensorIndex()
    for piece in [*pieces, keys[sum(map(len, pieces)):]]:
        index.add(piece)
    _check(index, keys)


def test_read_from_the_public_files_groups_as_the_document_does():
    for name in ("khadas_mobilenet_tf.quantize", "nsbb_zipformer_decoder_uint8.quantize",
                 "nsbb_zipformer_joiner_uint8.quantize"):
        doc = QuantizeDocument.open(public(name))
        index = TensorIndex.read(doc.scan)
        _check(index, doc.tensor_keys)
        assert {layer: list(keys) for layer, keys in index.by_layer().items()} \
            == doc.tensors_by_layer


def test_the_table_is_read_a_slice_at_a_time():
    assert inspect.isgeneratorfunction(scanner.tensor_key_pieces)
    doc = QuantizeDocument.open(public("khadas_mobilenet_tf.quantize"))
    small = list(scanner.tensor_key_pieces(doc.scan, 4096))
    assert len(small) > 1 and [k for piece in small for k in piece] == doc.tensor_keys


def test_layers_of_the_usual_ports_share_one_tuple():
    index = TensorIndex()
    index.add([f"@l{i}:{port}" for i in range(100) for port in ("out0", "weight", "bias")])
    assert len({id(held) for held in index.layers.values()}) == 1
