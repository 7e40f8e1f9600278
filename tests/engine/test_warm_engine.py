"""The warm engine on the real engine: every command run through one `pegasus serve` writes
the same bytes as the same command run cold, and nothing leaks from one command into the next
(two models and two customized lists in a row through one server). The commands and the
comparison are in warm_steps.py; the same run from the command line also compares cold with
cold (`python -m tests.engine.warm_steps`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanted.core.engine import warm
from tests.conftest import IN_CI
from tests.engine import warm_steps

pytestmark = pytest.mark.engine


def test_warm_commands_write_what_cold_ones_write(pegasus, tmp_path: Path):
    if warm.split([*pegasus, "quantize"], tmp_path) is None:
        message = (f"{pegasus} has no `serve` (its script lacks {warm.MARKER!r}): "
                   "scripts/setup-acuitylite refreshes bin/pegasus")
        pytest.fail(message) if IN_CI else pytest.skip(message)
    warm.shutdown()  # a server of its own, started by the first warm command
    # The second model is imported warm (those commands, compared with cold ones, are in
    # `python -m tests.engine.warm_steps`): it goes through the server before the sample.
    setup = warm_steps.build_sidenet(pegasus, tmp_path / "sidenet-model", cold=False)
    sidenet = tmp_path / "sidenet-model"
    cold, cold_ran = warm_steps.sequence(pegasus, tmp_path / "cold", True, sidenet)
    hot, hot_ran = warm_steps.sequence(pegasus, tmp_path / "warm", False, sidenet)
    assert cold_ran == [None] * len(cold_ran)
    servers = setup + hot_ran
    assert None not in servers and len(set(servers)) == 1, servers  # one server for all

    assert cold["list1"]["tinynet_uint8.quantize"] != cold["list2"]["tinynet_uint8.quantize"]
    for folder, files in cold.items():
        assert warm_steps.differences(files, hot[folder]) == [], folder
    written = set(cold["list1"])
    assert {"tinynet_uint8.quantize.json", "entropy.txt"} <= written
    assert any(name.startswith("inference/") and name.endswith(".tensor") for name in written)
    assert any(name.startswith("dump/") and name.endswith(".npy") for name in written)
    assert any(name.startswith("export/") and name.endswith(".c") for name in written)
    assert "sidenet_uint8.quantize" in cold["sidenet"]
