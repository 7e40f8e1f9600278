"""The tensor keys of quantize_parameters held by layer, small enough to sit beside the file's
bytes: what `check` and `layers` ask of the table.

The list of all keys (scanner.tensor_keys) and its grouping by layer took as much memory as
the file itself (600,000 keys at 150 MB, each its own str). Nearly every key is `@LAYER:PORT`
and nearly every layer has the same few ports, so a layer is held as its id and one shared
tuple of port names; its keys are rebuilt when asked for. Keys of any other form keep their
layer as a list of the keys as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, overload

from quanted.core.format import scanner
from quanted.core.format.keys import layer_of, looks_like_tensor_key
from quanted.core.format.scanner import Scan

if TYPE_CHECKING:
    from quanted.core.document.model import QuantizeDocument

# Bytes of the table whose keys are held at once while the index is built.
_SLICE = 1 << 18
# A layer with more tensors than this keeps them as a list of keys, with a set to find
# repeats: a growing tuple searched on every key would be quadratic in its length.
_SHARED_UP_TO = 32


class LayerKeys(Sequence[str]):
    """One layer's tensor keys, `@LAYER:PORT` for each of its (shared) ports."""

    __slots__ = ("layer", "ports")

    def __init__(self, layer: str, ports: tuple[str, ...]) -> None:
        self.layer = layer
        self.ports = ports

    def __len__(self) -> int:
        return len(self.ports)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [f"@{self.layer}:{port}" for port in self.ports[index]]
        return f"@{self.layer}:{self.ports[index]}"

    def __iter__(self) -> Iterator[str]:
        prefix = f"@{self.layer}:"
        return (prefix + port for port in self.ports)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(list(self))


class TensorIndex:
    """Layer id -> its ports (a shared tuple: every key `@LAYER:PORT`) or its keys as written
    (a list), in the order the layers first appear; with what `check` reports of the keys:
    each repeat of a key (file order) and the keys not of the form `@LAYER:PORT`."""

    __slots__ = ("layers", "repeats", "odd_count", "first_odd", "_shared", "_big")

    def __init__(self) -> None:
        self.layers: dict[str, tuple[str, ...] | list[str]] = {}
        self.repeats: list[str] = []
        self.odd_count = 0
        self.first_odd: str | None = None
        self._shared: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._big: dict[str, set[str]] = {}  # the keys of each layer held as a long list

    @classmethod
    def of(cls, doc: QuantizeDocument) -> TensorIndex:
        """The index of a document's table as it is now."""
        doc.data  # noqa: B018 - a pending save joined first: its scan is the one to read
        return cls.read(doc.scan)

    @classmethod
    def read(cls, result: Scan) -> TensorIndex:
        """The index of a scanned file's table, built a slice at a time."""
        index = cls()
        for keys in scanner.tensor_key_pieces(result, _SLICE):
            index.add(keys)
        return index

    def add(self, keys: Iterable[str]) -> None:
        """Keys in file order, after those added before (scanner.group_by_layer's grouping)."""
        layers, shared = self.layers, self._shared
        for key in keys:
            if key[:1] == "@" and (name := key[1:].rpartition(":")[0]):
                held = layers.get(name)
                if held is None:
                    ports = (key[len(name) + 2:],)
                    layers[name] = shared.setdefault(ports, ports)
                    continue
                if type(held) is tuple and len(held) < _SHARED_UP_TO:
                    port = key[len(name) + 2:]
                    if port in held:
                        self.repeats.append(key)
                    grown = (*held, port)
                    layers[name] = shared.setdefault(grown, grown)
                    continue
            else:
                name = layer_of(key)
                if not looks_like_tensor_key(key):
                    self.odd_count += 1
                    if self.first_odd is None:
                        self.first_odd = key
            self._add_to_list(name, key)

    def _add_to_list(self, name: str, key: str) -> None:
        held = self.layers.get(name)
        if held is None:
            self.layers[name] = [key]
            return
        if type(held) is tuple:
            held = self.layers[name] = list(LayerKeys(name, held))
        assert isinstance(held, list)
        big = self._big.get(name)
        if big is None and len(held) >= _SHARED_UP_TO:
            big = self._big[name] = set(held)
        if (key in big) if big is not None else (key in held):
            self.repeats.append(key)
        held.append(key)
        if big is not None:
            big.add(key)

    def __len__(self) -> int:
        """How many layers."""
        return len(self.layers)

    def __contains__(self, key: object) -> bool:
        """True when `key` is one of the tensor keys."""
        if not isinstance(key, str):
            return False
        if key[:1] == "@" and (name := key[1:].rpartition(":")[0]):
            held = self.layers.get(name)
            if type(held) is tuple:
                return key[len(name) + 2:] in held
        else:
            name = layer_of(key)
            held = self.layers.get(name)
        if held is None:
            return False
        big = self._big.get(name)
        return key in (held if big is None else big)

    def has_layer(self, layer: str) -> bool:
        return layer in self.layers

    @property
    def layer_ids(self) -> list[str]:
        return list(self.layers)

    def keys_of(self, layer: str) -> Sequence[str]:
        """The layer's tensor keys in file order (empty for a layer not in the file)."""
        held = self.layers.get(layer, ())
        return LayerKeys(layer, held) if type(held) is tuple else held

    def by_layer(self) -> Mapping[str, Sequence[str]]:
        """Layer id -> its keys, as scanner.group_by_layer gives them (a view: each layer's
        keys are made when read)."""
        return _ByLayer(self)


class _ByLayer(Mapping[str, Sequence[str]]):
    __slots__ = ("_index",)

    def __init__(self, index: TensorIndex) -> None:
        self._index = index

    def __getitem__(self, layer: str) -> Sequence[str]:
        if layer not in self._index.layers:
            raise KeyError(layer)
        return self._index.keys_of(layer)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.layers)

    def __len__(self) -> int:
        return len(self._index.layers)

    def __contains__(self, layer: object) -> bool:
        return layer in self._index.layers
