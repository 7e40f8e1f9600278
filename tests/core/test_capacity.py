"""tune's default --jobs: as many parallel trials as cores and free memory allow."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from quanted.core.engine import capacity

GIB = 1 << 30


def test_cores_bound_it_when_memory_is_plenty():
    assert capacity.default_jobs(1000, memory=64 * GIB, cpus=2) == 2
    assert capacity.default_jobs(1000, memory=64 * GIB, cpus=16) == 16


def test_memory_bounds_it_and_it_is_never_below_one():
    room = capacity.RESERVE + capacity.SERVER_BYTES + 3 * capacity.trial_bytes(1000)
    assert capacity.default_jobs(1000, memory=room, cpus=16) == 3
    trial = capacity.trial_bytes(1000)
    extra = capacity.SERVER_BYTES // trial  # a running server's share goes to trials
    assert capacity.default_jobs(1000, memory=room, cpus=16, server_running=True) == 3 + extra
    assert capacity.default_jobs(1000, memory=0, cpus=16) == 1
    cold = capacity.RESERVE + 2 * capacity.trial_bytes(1000, warm=False)
    assert capacity.default_jobs(1000, warm=False, memory=cold, cpus=16) == 2


@given(memory=st.integers(0, 256 * GIB), cpus=st.integers(1, 128),
       size=st.integers(0, 8 * GIB), warm=st.booleans())
def test_bigger_weights_never_get_more_jobs(memory, cpus, size, warm):
    jobs = capacity.default_jobs(size, warm, memory=memory, cpus=cpus)
    bigger = capacity.default_jobs(size * 2 + 1, warm, memory=memory, cpus=cpus)
    assert 1 <= bigger <= jobs <= cpus
