"""Trials on a dask.distributed cluster (`quanted tune --scheduler ADDRESS`, the [dask] extra).

The workers read the model folder at the client's absolute path: it must be on a filesystem
they share (NFS, say); nothing is shipped, and each trial checks the folder on its worker
first. A worker lost mid-trial: the scheduler runs the task again on another (dask's
`allowed-failures`); a trial is idempotent (its own scratch folder) and the client alone
writes the journal, once per trial. Cancelling a dask future does not stop a running task, so
each trial watches a dask Event named by the tune's token and, once it is set, stops the
engine processes it started (runner.cancel) on its worker."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from quanted.core.engine.discovery import find_pegasus
from quanted.core.errors import QuantedError
from quanted.core.tune import runner

POLL_SECONDS = 0.2  # how soon a running trial sees the tune cancelled
CONNECT_SECONDS = 30


class ClusterError(QuantedError):
    pass


class ClusterExecutor:
    """book.Executor over a dask Client. `own_engine`: each worker finds its own engine
    (QUANTED_PEGASUS, the default built one) instead of the client's path (--pegasus)."""

    def __init__(self, address: str, own_engine: bool) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("--scheduler needs dask.distributed: "
                               "pip install 'quanted[dask]'") from None
        try:
            self.client = Client(address, timeout=CONNECT_SECONDS)
        except OSError as exc:
            raise ClusterError(f"cannot reach the dask scheduler at {address}: {exc}") from None
        self.address = address
        self.own_engine = own_engine

    def threads(self) -> int:
        """Trials the cluster runs at once (its workers' threads)."""
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, fn: Callable[[runner.TrialSpec], Any], spec: runner.TrialSpec) -> Any:
        # pure=False: a trial run again (by a second tune) is a new task, never a cached one.
        return self.client.submit(on_worker, fn, spec, self.own_engine, pure=False)

    def cancel_tune(self, token: str) -> None:
        from distributed import Event

        # Called while an error or ctrl+c is being raised: a scheduler gone must not hide it
        # (its workers, losing it, end their tasks anyway).
        with contextlib.suppress(Exception):
            Event(token, client=self.client).set()

    def close(self) -> None:
        self.client.close()


def on_worker(fn: Callable[[runner.TrialSpec], Any], spec: runner.TrialSpec,
              own_engine: bool) -> Any:
    """`fn(spec)` (runner.run_trial or run_float) on a dask worker, stopped by the tune's
    Event; a TrialOutput names the worker (runner sets it)."""
    from distributed import Event, get_client, get_worker

    address = get_worker().address
    folder = spec.inputs.folder
    for path in (folder, spec.inputs.quantize):
        if not path.exists():
            raise ClusterError(f"the worker {address} cannot see {path}: the model folder "
                               "must be on a filesystem the workers share, at the same "
                               "absolute path", path)
    if own_engine:
        engine = find_pegasus(None)
        spec = replace(spec, pegasus=engine, command=engine + spec.command[len(spec.pegasus):])
    runner.control(spec.token)  # this worker's trials of the tune register their engines here
    # The worker's client, named: the watching thread is no task's, where dask finds none.
    cancelled = Event(spec.token, client=get_client())
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                if cancelled.wait(timeout=POLL_SECONDS):
                    runner.cancel(spec.token)
                    return
            except Exception:  # noqa: BLE001 - the scheduler gone: the worker is going too
                return

    watcher = threading.Thread(target=watch, name="quanted-tune-cancel", daemon=True)
    watcher.start()
    try:
        return fn(spec)
    finally:
        done.set()
