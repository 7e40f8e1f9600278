"""Running trials: the recorded ones are read back, the others go to an executor.

The executor is anything with `submit(fn, *args)` returning a future with `result()` (and,
when it has them, `done()` and `cancel()`): concurrent.futures' ThreadPoolExecutor, which
`tune` makes for `--jobs J`, or cluster.ClusterExecutor (`--scheduler`) to run trials on
other machines; an executor with `cancel_tune(token)` is told when the tune is cancelled."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from quanted.core.engine import command as cmd
from quanted.core.engine.output_figures import CLASS, proven_kinds
from quanted.core.engine.taskcheck import Layout, write_outputs
from quanted.core.tune import runner
from quanted.core.tune.figures import CheckOutcome, Outputs, Target, Trial, measure
from quanted.core.tune.progress import Event, Note, Plan, TrialEnded, TrialStarted
from quanted.core.tune.store import TrialStore, trial_key


class FutureLike(Protocol):
    def result(self) -> Any: ...


class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any: ...


class Book:
    """This run's trials (each layer set once, in the order first asked for), backed by the
    store; `max_trials` caps the engine runs (recorded trials are free)."""

    def __init__(self, store: TrialStore, make_spec: Callable[[dict[str, str]],
                 runner.TrialSpec], executor: Executor, plan: Plan, target: Target,
                 on_event: Callable[[Event], None], max_trials: int | None = None) -> None:
        self.store = store
        self.make_spec = make_spec
        self.executor = executor
        self.plan = plan
        self.target = target
        self.on_event = on_event
        self.max_trials = max_trials
        self.token = f"tune-{uuid.uuid4().hex}"
        runner.control(self.token)  # trials started in this process register their engines
        self.trials: list[Trial] = []
        self.engine_runs = 0
        self.out_of_trials = False
        self._seen: dict[str, Trial] = {}
        self._reference: Outputs | None = None
        self._seconds: list[float] = []
        self._check_folder: Path | None = None  # float's outputs for the check, written once
        self._class_outputs: list[str] | None = None

    def spec(self, customized: dict[str, str]) -> runner.TrialSpec:
        spec = self.make_spec(customized)
        return runner.TrialSpec(spec.inputs, spec.customized, spec.pegasus, spec.command,
                                spec.iterations, self.token)

    def cancel(self) -> None:
        runner.cancel(self.token)
        cancel_tune = getattr(self.executor, "cancel_tune", None)
        if cancel_tune is not None:  # a cluster's trials run in other processes
            cancel_tune(self.token)

    def close(self) -> None:
        runner.release(self.token)
        if self._check_folder is not None:
            shutil.rmtree(self._check_folder, ignore_errors=True)

    def reference(self) -> Outputs:
        """The float outputs: recorded, else one float inference."""
        if self._reference is None:
            recorded = self.store.float_outputs()
            if recorded is None:
                self.on_event(Note("running the float model once (its outputs are reused)"))
                future = self.executor.submit(runner.run_float, self.spec({}))
                recorded = self._wait([future])[0]
                self.store.save_float(recorded)
            self._reference = recorded
        return self._reference

    def known(self, customized: dict[str, str], phase: str) -> Trial | None:
        """The trial of this list if this run measured it or the store has it (no engine)."""
        key = trial_key(customized)
        if key in self._seen:
            return self._seen[key]
        recorded = self._recorded(customized, phase)
        return None if recorded is None else self._add(recorded)

    def _recorded(self, customized: dict[str, str], phase: str) -> Trial | None:
        """The store's trial, unless the target's check has not judged it (a trial recorded
        without --check, or with another command, runs again)."""
        recorded = self.store.get(customized, phase)
        check = self.target.check
        if recorded is not None and check is not None and (
                recorded.figures.check is None
                or recorded.figures.check.command != check.describe()):
            return None
        return recorded

    def evaluate(self, sets: list[dict[str, str]], phase: str) -> list[Trial | None]:
        """The trial of each candidate list; None for those the trial budget left unmeasured.
        Lists not recorded yet run in parallel on the executor."""
        results: list[Trial | None] = [None] * len(sets)
        pending: list[int] = []
        for i, customized in enumerate(sets):
            key = trial_key(customized)
            if key in self._seen:
                results[i] = self._seen[key]
                continue
            recorded = self._recorded(customized, phase)
            if recorded is not None:
                results[i] = self._add(recorded)
                continue
            if any(trial_key(sets[j]) == key for j in pending):
                continue
            if self.max_trials is not None and self.engine_runs + len(pending) >= self.max_trials:
                self.out_of_trials = True
                continue
            pending.append(i)
        if pending:
            reference = self.reference()
            futures = []
            for n, i in enumerate(pending):
                self.on_event(TrialStarted(phase, tuple(sets[i]), len(self.trials) + n + 1,
                                           self.plan.expected))
                futures.append(self.executor.submit(runner.run_trial, self.spec(sets[i])))
            self.engine_runs += len(pending)
            outputs = self._wait(futures, lambda n, output: self._measured(
                output, phase, reference))
            for i, trial in zip(pending, outputs):
                results[i] = trial
        for i, customized in enumerate(sets):
            if results[i] is None:
                results[i] = self._seen.get(trial_key(customized))
        return results

    def _measured(self, output: runner.TrialOutput, phase: str, reference: Outputs) -> Trial:
        figures = measure(reference, output.outputs, self.store.folder,
                          self._classes(output.outputs))
        if self.target.check is not None:
            figures = replace(figures, check=self._judge(reference, output.outputs))
        trial = Trial(output.customized, figures, not output.not_applied and not output.notes,
                      output.not_applied, round(output.seconds, 3), phase,
                      notes=list(output.notes), worker=output.worker)
        self.store.add(trial)
        self._seconds.append(output.seconds)
        self.plan.trial_seconds = sum(self._seconds) / len(self._seconds) / max(
            1, min(self.plan.jobs, len(self._seconds)))
        return self._add(trial)

    def _classes(self, quantized: Outputs) -> list[str]:
        """The class-score outputs (output_figures.proven_kinds on the trial's shapes)."""
        if self._class_outputs is None:
            shapes = {key: tuple(np.shape(values[0])) for key, values in quantized.items()}
            kinds = proven_kinds(self.make_spec({}).inputs.files.model, shapes)
            self._class_outputs = [key for key, kind in kinds.items() if kind == CLASS]
        return self._class_outputs

    def _judge(self, reference: Outputs, quantized: Outputs) -> CheckOutcome:
        """The user's check on one trial's outputs (taskcheck's protocol), float's written once
        per tune, in the shape the trial's quantized outputs have."""
        check = self.target.check
        assert check is not None
        inputs = self.make_spec({}).inputs
        shapes = {key: tuple(np.shape(values[0])) for key, values in quantized.items()}
        model = inputs.files.model
        lines = cmd.dataset_lines(inputs.files.inputmeta) or [""]
        count = min(len(values) for values in quantized.values())
        layout = Layout.of(model, shapes, proven_kinds(model, shapes),
                           [lines[i % len(lines)] for i in range(count)])
        if self._check_folder is None:
            self._check_folder = Path(tempfile.mkdtemp(prefix="quanted-tune-check-"))
            shaped = {key: [np.reshape(v, shapes[key]) for v in values]
                      for key, values in reference.items()}
            write_outputs(self._check_folder / "float", shaped, layout, "float")
        trial_dir = Path(tempfile.mkdtemp(prefix="trial-", dir=self._check_folder))
        try:
            write_outputs(trial_dir, quantized, layout, "quantized")
            verdict = check.run(self._check_folder / "float", trial_dir, inputs.folder)
        finally:
            shutil.rmtree(trial_dir, ignore_errors=True)
        return CheckOutcome(check.describe(), verdict.acceptable, verdict.metric)

    def _add(self, trial: Trial) -> Trial:
        self._seen[trial_key(trial.customized)] = trial
        self.trials.append(trial)
        index = len(self.trials)
        self.on_event(TrialEnded(trial, index, self.plan.expected, self.plan.eta(index),
                                 trial.meets(self.target)))
        return trial

    def _wait(self, futures: list[Any], each: Callable[[int, Any], Any] | None = None
              ) -> list[Any]:
        """Results in submission order. On any failure or ctrl+c the engine runs still going
        are cancelled and the trials that did finish are still recorded."""
        results: list[Any] = []
        try:
            for n, future in enumerate(futures):
                output = future.result()
                results.append(each(n, output) if each else output)
        except BaseException:
            self.cancel()
            for n in range(len(results), len(futures)):
                self._settle(futures[n], n, each)
            raise
        return results

    @staticmethod
    def _settle(future: Any, n: int, each: Callable[[int, Any], Any] | None) -> None:
        cancel = getattr(future, "cancel", None)
        if cancel is not None:
            cancel()
        try:
            output = future.result()
        except BaseException:  # noqa: BLE001 - cancelled or failed: nothing to record
            return
        if each is not None:
            # Recording a trial that finished is a bonus here: the error being raised wins.
            with contextlib.suppress(Exception):
                each(n, output)
