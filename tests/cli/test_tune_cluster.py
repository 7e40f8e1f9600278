"""`quanted tune --scheduler` on a real dask.distributed LocalCluster (two worker processes),
against the STAND-IN for pegasus (tests/cli/tune_stand_in.py): the same set as a local run, a
worker killed mid-trial, ctrl+c, a worker that cannot see the model folder. The real engine
through a cluster is in tests/engine/test_tune_cluster_engine.py."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from quanted.core.tune import runner, session
from quanted.core.tune.cluster import ClusterError, on_worker
from quanted.core.tune.figures import Target
from tests.cli.test_tune_cancel import WAIT, kill, running, wait_for
from tests.cli.test_tune_stand_in import (
    ADD6,
    AVGPOOL,
    CONV2,
    NON_MONOTONIC,
    PAIRS,
    PEGASUS,
    configure,
    ctrl_c_as_at_a_terminal,
    make_model,
    tune,
)
from tests.conftest import REPO

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'quanted[dask]')")

pytestmark = pytest.mark.cluster


@pytest.fixture
def model(tmp_path, monkeypatch):
    return make_model(tmp_path, monkeypatch)


@pytest.fixture
def cluster(model, monkeypatch, tmp_path):
    """Two single-threaded worker processes. The stand-in's configuration path and the
    scratch folder reach them through the environment, so both are set before they start."""
    monkeypatch.setenv("TUNE_STAND_IN", str(tmp_path / "stand-in.json"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=":0", scheduler_port=0,
                                  local_directory=str(tmp_path / "dask")) as local:
        yield local


def worker_pids(address: str) -> dict[int, str]:
    with distributed.Client(address) as client:
        return {pid: worker for worker, pid in client.run(os.getpid).items()}


def ancestors(pid: int) -> list[int]:
    found = []
    while pid > 1:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, IndexError):
            break
        found.append(pid)
    return found


def stand_ins_under(pids: set[int]) -> list[int]:
    """The stand-in engine processes (alive; their keepers too) that descend from one of
    `pids`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        pid = int(entry.name)
        if b"tune_stand_in.py" in cmdline and running(pid) and pids & set(ancestors(pid)):
            found.append(pid)
    return found


def journal(model: Path) -> list[dict]:
    (folder,) = (model.parent / ".quanted" / "tune").iterdir()
    return [json.loads(line) for line in (folder / "trials.jsonl").read_text().splitlines()]


def test_the_cluster_finds_what_a_local_run_finds_and_names_the_workers(
        model, monkeypatch, capsys, cluster, tmp_path):
    configure(model, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS)
    code, remote, _err = tune(model, capsys, "--jobs", "2", "--scheduler",
                              cluster.scheduler_address)
    workers = set(cluster.scheduler_info["workers"])
    assert code == 0 and set(remote["layers"]) == {CONV2, AVGPOOL}
    assert remote["trials"] and all(t["worker"] in workers for t in remote["trials"])
    assert {r["worker"] for r in journal(model)} <= workers
    scratch = [p.name for p in (tmp_path / "tmp").iterdir()]
    assert scratch in ([], ["dask-scratch-space"])  # every trial's scratch folder is gone

    (tmp_path / "local").mkdir()
    local = make_model(tmp_path / "local", monkeypatch)
    configure(local, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS)
    code, here, _err = tune(local, capsys, "--jobs", "2")
    assert code == 0 and here["layers"] == remote["layers"]
    assert [t["layers"] for t in here["trials"]] == [t["layers"] for t in remote["trials"]]
    assert {t["worker"] for t in here["trials"]} == {None}


def test_a_worker_killed_mid_trial_reruns_it_elsewhere(model, monkeypatch, capsys, cluster,
                                                       tmp_path):
    configure(model, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS, hang_on_quantize=1)
    pids = worker_pids(cluster.scheduler_address)
    done: list[tuple] = []

    def run() -> None:
        done.append(tune(model, capsys, "--jobs", "2", "--scheduler",
                         cluster.scheduler_address))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    hung = wait_for(tmp_path / "hang")
    (victim,) = set(ancestors(hung)) & set(pids)
    try:
        os.kill(victim, signal.SIGKILL)
        thread.join(WAIT)
        deadline = time.monotonic() + 30
        while running(hung) and time.monotonic() < deadline:
            time.sleep(0.05)  # the engine's keeper follows its dead parent (a death signal)
        orphan = running(hung)
    finally:
        kill([hung])
    assert not orphan, "the killed worker's engine outlived it"
    assert not thread.is_alive(), "the tune did not end after its worker died"
    code, result, _err = done[0]
    assert code == 0 and set(result["layers"]) == {CONV2, AVGPOOL}
    quantized = [c for c in (tmp_path / "calls.log").read_text().splitlines()
                 if c.startswith("quantize")]
    # the trial started on the killed worker, then again elsewhere
    assert len(quantized) > len(set(quantized))
    assert pids[victim] not in {t["worker"] for t in result["trials"]}
    records = journal(model)
    assert len(records) == len({json.dumps(sorted(r["customized"].items())) for r in records})
    # A second tune reuses every finished trial: no quantize but the final run's.
    before = len((tmp_path / "calls.log").read_text().splitlines())
    code, again, _err = tune(model, capsys, "--jobs", "2", "--scheduler",
                             cluster.scheduler_address)
    assert code == 0 and again["layers"] == result["layers"]
    assert all(t["cached"] for t in again["trials"])
    assert all(t["worker"] for t in again["trials"])  # the journal keeps who ran each
    after = (tmp_path / "calls.log").read_text().splitlines()[before:]
    assert [c.split()[0] for c in after].count("quantize") == 1


def test_ctrl_c_stops_the_trials_running_on_the_workers(model, monkeypatch, cluster, tmp_path):
    configure(model, monkeypatch, weights={CONV2: 0.3, ADD6: 0.3}, hang_on_quantize=[1, 2])
    pids = set(worker_pids(cluster.scheduler_address))
    before = model.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "quanted", "tune", str(model), "--pegasus",
                             PEGASUS, "--jobs", "2", "--scheduler", cluster.scheduler_address],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    hung: list[int] = []
    try:
        hung = [wait_for(tmp_path / f"hang-{n}", proc) for n in (1, 2)]
        assert set(hung) <= set(stand_ins_under(pids))  # one on each worker (and its keeper)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=WAIT)
        deadline = time.monotonic() + 30
        while stand_ins_under(pids) and time.monotonic() < deadline:
            time.sleep(0.05)  # the workers see the tune's Event within their poll
        left = stand_ins_under(pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        kill(hung)
    assert proc.returncode == 130, err
    assert "cancelled" in err and model.read_bytes() == before
    assert left == []


def test_a_worker_that_cannot_see_the_model_folder_says_which_path(model, monkeypatch,
                                                                   cluster, tmp_path):
    configure(model, monkeypatch, weights=NON_MONOTONIC)
    setup = session.prepare(model, session.Options(Target(0.99), pegasus=PEGASUS))
    elsewhere = tmp_path / "not-shared" / model.name
    spec = runner.TrialSpec(replace(setup.inputs, quantize=elsewhere), {}, setup.pegasus,
                            setup.command, 1)
    with distributed.Client(cluster.scheduler_address) as client:
        future = client.submit(on_worker, runner.run_trial, spec, False, pure=False)
        with pytest.raises(ClusterError) as raised:
            future.result()
    assert raised.value.message.startswith("the worker tcp://")
    assert f"cannot see {elsewhere.parent}: the model folder must be on a filesystem the " \
        "workers share" in raised.value.message


def test_an_engine_failure_on_a_worker_reaches_the_client_whole():
    # Raised on a worker, unpickled on the client: the engine's status and log tail survive.
    failed = pickle.loads(pickle.dumps(runner.TrialFailed("pegasus inference", 3, ["E oops"])))
    assert (failed.message, failed.status, failed.tail, failed.exit_code) == (
        "pegasus inference exited with status 3", 3, ["E oops"], 3)
