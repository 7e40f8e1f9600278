"""Tune's ranking by `drop` reads a current cached analysis (issue 9, with issue 8's cache)."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from quanted.core.document import QuantizeDocument
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


def test_rank_drop_without_an_analysis_says_how_to_make_one(doc, monkeypatch):
    monkeypatch.setattr(analysis, "load_current", lambda path, iterations=None: None)
    assert rank.drop_by_layer(doc) is None
    with pytest.raises(rank.RankError, match="quanted analyze"):
        rank.rank(doc, rank.DROP)
    assert rank.rank(doc).how == rank.ENTROPY  # no analysis: entropy, as before
