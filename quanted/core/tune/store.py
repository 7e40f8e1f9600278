"""`.quanted/tune/CONTEXT/` beside the file: every trial a tune measured, so a second run with
the same inputs (after ctrl+c, a lost SSH session, or with another target) reuses them.

CONTEXT is scratch.context_key: the model, data, dataset, the file without its customized list,
and the number of inputs. `trials.jsonl` holds one JSON object per measured layer set and qtype
(appended and flushed as each trial ends; a torn last line is skipped); `float.npz` holds the
float outputs; `context.json` says, for people, what the folder is about."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from quanted.core.tune.figures import CheckOutcome, Figures, Outputs, Trial

TUNE_DIR = Path(".quanted") / "tune"
TRIALS = "trials.jsonl"
FLOAT = "float.npz"


def trial_key(customized: dict[str, str]) -> str:
    return json.dumps(sorted(customized.items()))


class TrialStore:
    def __init__(self, quantize: Path, context: str, about: dict) -> None:
        self.folder = quantize.parent / TUNE_DIR / context[:16]
        self.about = about
        self._trials: dict[str, dict] | None = None

    def _ensure(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "context.json").write_text(json.dumps(self.about, indent=1) + "\n",
                                                      encoding="utf-8")

    def _load(self) -> dict[str, dict]:
        if self._trials is None:
            self._trials = {}
            path = self.folder / TRIALS
            if path.is_file():
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        raw = json.loads(line)
                        self._trials[trial_key(dict(raw["customized"]))] = raw
                    except (ValueError, KeyError, TypeError):
                        continue  # torn by a crash; that trial runs again
        return self._trials

    def __len__(self) -> int:
        return len(self._load())

    def get(self, customized: dict[str, str], phase: str) -> Trial | None:
        raw = self._load().get(trial_key(customized))
        if raw is None:
            return None
        try:
            check = raw.get("check")
            figures = Figures(tuple(float(c) for c in raw["cosines"]),
                              tuple(bool(t) for t in raw["top1"]),
                              tuple((str(k), float(c)) for k, c in raw.get("outputs", [])),
                              None if not check else CheckOutcome(
                                  str(check["command"]), bool(check["acceptable"]),
                                  None if check["metric"] is None else float(check["metric"])))
            return Trial(dict(customized), figures, bool(raw["applied"]), tuple(raw["not_applied"]),
                         float(raw["seconds"]), phase, cached=True,
                         notes=list(raw.get("notes", [])), worker=raw.get("worker"))
        except (ValueError, KeyError, TypeError):
            return None

    def add(self, trial: Trial) -> None:
        self._ensure()
        raw = {"customized": trial.customized,
               "cosines": list(trial.figures.cosines), "top1": list(trial.figures.top1),
               "applied": trial.applied, "not_applied": list(trial.not_applied),
               "seconds": trial.seconds, "notes": trial.notes, "worker": trial.worker,
               "outputs": [list(pair) for pair in trial.figures.outputs],
               "check": None if trial.figures.check is None else {
                   "command": trial.figures.check.command,
                   "acceptable": trial.figures.check.acceptable,
                   "metric": trial.figures.check.metric}}
        with open(self.folder / TRIALS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(raw) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._load()[trial_key(trial.customized)] = raw

    def float_outputs(self) -> Outputs | None:
        path = self.folder / FLOAT
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                names = json.loads(str(data["__names__"]))
                return {key: [data[f"{i}_{n}"] for n in range(count)]
                        for i, (key, count) in enumerate(names)}
        except (OSError, ValueError, KeyError):
            return None

    def save_float(self, outputs: Outputs) -> None:
        self._ensure()
        arrays = {f"{i}_{n}": value for i, values in enumerate(outputs.values())
                  for n, value in enumerate(values)}
        names = json.dumps([[key, len(values)] for key, values in outputs.items()])
        temporary = self.folder / (FLOAT + ".tmp.npz")
        arrays["__names__"] = np.array(names)
        np.savez(temporary, **arrays)  # type: ignore[arg-type]  # numpy's stub: one bool kwarg
        os.replace(temporary, self.folder / FLOAT)
