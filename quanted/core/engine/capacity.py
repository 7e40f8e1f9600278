"""How many engine commands this machine runs at once: `quanted tune`'s default `--jobs`.

The rule: one trial per core, and no more than the free memory (MemAvailable, less RESERVE)
holds. A warm trial runs one command at a time (the hybrid run, then the inference) in a child
of the one server, sharing the server's pages; what it adds is its private memory. Measured
with benchmarks/bench_engine.py (acuitylite 6.57.1) on the sample and on sidenet (weights of
0.4 MB and less): the server 1184 MiB after its imports, a warm trial's peak private memory
108 and 86 MiB, a cold command's peak RSS 1357 and 1352 MiB. TRIAL_BASE and COLD_BYTES add a
margin to those; PER_DATA_BYTE is an allowance for big models the small ones cannot measure
(float weights held a few times over: the float net, the quantized copy, the outputs)."""

from __future__ import annotations

import os
from pathlib import Path

MIB = 1 << 20
SERVER_BYTES = 1200 * MIB  # counted while no server runs yet
TRIAL_BASE = 256 * MIB
PER_DATA_BYTE = 6
COLD_BYTES = 1400 * MIB
RESERVE = 1024 * MIB  # left for quanted, the editor and everything else


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), in bytes."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def trial_bytes(data_bytes: int, warm: bool = True) -> int:
    return (TRIAL_BASE if warm else COLD_BYTES) + PER_DATA_BYTE * data_bytes


def default_jobs(data_bytes: int, warm: bool = True, server_running: bool = False,
                 memory: int | None = None, cpus: int | None = None) -> int:
    """Parallel trials for a model whose weights (NAME.data) take `data_bytes`: as many as
    cores and free memory allow, at least 1."""
    cpus = cores() if cpus is None else cpus
    memory = available_memory() if memory is None else memory
    if memory is None:
        return max(1, cpus)
    budget = memory - RESERVE - (SERVER_BYTES if warm and not server_running else 0)
    return max(1, min(cpus, budget // trial_bytes(data_bytes, warm)))


def jobs_for(quantize: Path, pegasus: str | None = None) -> int:
    """default_jobs for a tune of `quantize` with this pegasus (1 when either is not found:
    the tune then says why)."""
    from quanted.core.engine import warm
    from quanted.core.engine.command import model_files
    from quanted.core.engine.discovery import find_pegasus
    from quanted.core.errors import QuantedError

    try:
        size = model_files(quantize.absolute()).data.stat().st_size
        prefix = find_pegasus(pegasus)
    except (QuantedError, OSError):
        return 1
    serves = warm.split([*prefix, "quantize"], quantize.absolute().parent) is not None
    return default_jobs(size, warm=serves, server_running=serves and warm.running())
