"""Fixtures the engine tests share."""

from pathlib import Path

import pytest

from output_reference import built_and_quantized

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def detnet(pegasus, tmp_path_factory):
    """tests/engine/build_detnet.py's two-output detector, quantized as the seed does (4
    inputs); made once per test module."""
    return built_and_quantized(pegasus, tmp_path_factory.mktemp("detnet"),
                               HERE / "build_detnet.py", "detnet", 4)
