"""Tune's ranking by `drop` reads a current cached analysis (kept in .quanted/analysis/)."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from quanted.core.tune import rank
from tests.conftest import SAMPLE


@pytest.fixture
def doc(tmp_path):
    for item in SAMPLE.iterdir():
        if item.is_file():
            shutil.copy(item, tmp_path / item.name)
    return QuantizeDocument.open(tmp_path / "tinynet_uint8.quantize")


def _cached(monkeypatch, drops: dict[str, float | None]) -> None:
    figures = {layer: SimpleNamespace(drop=drop) for layer, drop in drops.items()}
    found = SimpleNamespace(by_layer=lambda: figures)
    monkeypatch.setattr(analysis, "load_current", lambda path, iterations=None: found)


def test_a_cached_analysis_ranks_by_drop_worst_first(doc, monkeypatch):
    convs = [layer for layer in rank.candidates(doc) if "/Conv_" in layer]
    low, high, unmeasured = convs[0], convs[1], convs[2]
    _cached(monkeypatch, {low: 0.001, high: 0.2, unmeasured: None})
    ranking = rank.rank(doc)  # no --rank: drop, because an analysis is cached
    assert ranking.how == rank.DROP
    assert ranking.layers[:2] == [high, low]
    assert unmeasured not in ranking.drop
    assert rank.rank(doc, rank.ENTROPY).how == rank.ENTROPY  # asked for: entropy still


def test_rank_drop_without_an_analysis_is_pending_in_entropy_order(doc, monkeypatch):
    monkeypatch.setattr(analysis, "load_current", lambda path, iterations=None: None)
    assert rank.drop_by_layer(doc) is None
    pending = rank.rank(doc, rank.DROP)  # the tune runs the analysis (session.search)
    assert pending.how == rank.DROP and pending.pending and not pending.drop
    by_entropy = rank.rank(doc)  # no analysis, no --rank: entropy, as before
    assert by_entropy.how == rank.ENTROPY and not by_entropy.pending
    assert pending.layers == by_entropy.layers
    # figures handed in (an analysis just run) rank as a cached one does
    convs = [layer for layer in rank.candidates(doc) if "/Conv_" in layer]
    ranked = rank.rank(doc, rank.DROP, drop={convs[2]: 0.3, convs[0]: 0.1})
    assert not ranked.pending and ranked.layers[:2] == [convs[2], convs[0]]
