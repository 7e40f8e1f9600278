"""`quanted tune --scheduler` with the real engine (acuitylite 6.57.1) on the bundled sample,
through a local dask.distributed cluster of two worker processes that find the engine as
quanted does (QUANTED_PEGASUS, set before they start; no --pegasus): the float run and two
trials (the bounds: plain and all raised), each named by the worker that ran it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.engine.test_tune_engine import REPO, copy_sample

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'quanted[dask]')")

pytestmark = [pytest.mark.engine, pytest.mark.cluster]


def test_two_trials_run_on_the_cluster_with_the_real_engine(tmp_path, monkeypatch):
    if not os.environ.get("QUANTED_PEGASUS"):
        pytest.skip("QUANTED_PEGASUS is not set: the workers would look for the default engine")
    model = copy_sample(tmp_path / "model")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=":0", scheduler_port=0,
                                  local_directory=str(tmp_path / "dask")) as cluster:
        workers = set(cluster.scheduler_info["workers"])
        run = subprocess.run([sys.executable, "-m", "quanted", "tune", str(model), "--json",
                              "--max-trials", "2", "--rank", "entropy",
                              "--scheduler", cluster.scheduler_address],
                             capture_output=True, text=True, timeout=600, cwd=REPO)
    assert run.returncode in (0, 1), run.stderr
    result = json.loads(run.stdout)
    plain, raised = result["trials"][:2]
    assert plain["layers"] == [] and len(raised["layers"]) > 30
    for trial in (plain, raised):
        assert trial["worker"] in workers and not trial["cached"]
        assert 0 < trial["min_cosine"] <= 1
    assert raised["min_cosine"] > plain["min_cosine"]
