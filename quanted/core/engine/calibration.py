"""The calibration of a plain file: the flags of the `pegasus quantize --rebuild` run that made
it (quantizer, qtype, iterations, algorithm, --compute-entropy, ...). A --hybrid run with other
flags builds another model (docs/format.md section 10), so every hybrid
run quanted makes, the user's and tune's trials alike, uses these."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import command as cmd

# Flags of a --rebuild line that name files or the step: everything else is calibration.
_FILE_FLAGS = ("--model", "--model-data", "--with-input-meta", "--model-quantize",
               "--output-dir")
_MODE_FLAGS = ("--rebuild", "--rebuild-all", "--hybrid")

RECORDED, INFERRED = "recorded", "inferred"


@dataclass(frozen=True)
class Calibration:
    """The flags of the --rebuild run after its file names: `--quantizer Q --qtype T
    [--iterations N] [--compute-entropy] [--algorithm ...] ...`, in the order given."""

    flags: tuple[str, ...]
    source: str = INFERRED  # RECORDED or INFERRED
    why: str = ""  # how it was found, for people

    @property
    def compute_entropy(self) -> bool:
        return "--compute-entropy" in self.flags

    def value(self, flag: str) -> str | None:
        return cmd.flag_value(self.flags, flag)

    @property
    def label(self) -> str:
        """`uint8 asymmetric_affine, 4 iterations, entropy computed, normal (inferred)`."""
        parts = [f"{self.value('--qtype') or '?'} {self.value('--quantizer') or '?'}"]
        if self.value("--iterations"):
            parts.append(f"{self.value('--iterations')} iterations")
        parts.append("entropy computed" if self.compute_entropy else "no entropy")
        parts.append(self.value("--algorithm") or "normal")
        if "--MLE" in self.flags:
            parts.append("MLE")
        return f"{', '.join(parts)} ({self.source})"

    @property
    def plain(self) -> tuple[str, str] | None:
        """(quantizer, qtype) as the file writes them (`asymmetric_affine`, `u8`)."""
        quantizer, word = self.value("--quantizer"), self.value("--qtype")
        if not quantizer or not word:
            return None
        words = {v: k for k, v in cmd.QTYPE_WORDS.items()}
        return quantizer, words.get(word, word)

    @property
    def key(self) -> str:
        return hashlib.sha256("\0".join(self.flags).encode()).hexdigest()[:16]

    def hybrid_args(self, quantize: Path, files: cmd.ModelFiles) -> list[str]:
        """`quantize ... --hybrid --model-quantize FILE` with these flags, relative to the
        file's folder (the run's cwd)."""
        return ["quantize",
                "--model", cmd.safe_arg(files.model.name),
                "--model-data", cmd.safe_arg(files.data.name),
                "--with-input-meta", cmd.safe_arg(files.inputmeta.name),
                "--hybrid",
                "--model-quantize", cmd.safe_arg(quantize.name),
                *self.flags]

    def with_iterations(self, iterations: int) -> Calibration:
        flags = list(self.flags)
        for i, word in enumerate(flags):
            if word == "--iterations" and i + 1 < len(flags):
                flags[i + 1] = str(iterations)
                return Calibration(tuple(flags), self.source, self.why)
        return Calibration((*flags, "--iterations", str(iterations)), self.source, self.why)

    def to_json(self) -> dict:
        return {"flags": list(self.flags), "source": self.source, "why": self.why}

    @classmethod
    def from_json(cls, data: object) -> Calibration | None:
        if not isinstance(data, dict) or not isinstance(data.get("flags"), list):
            return None
        flags = data["flags"]
        if not all(isinstance(word, str) for word in flags):
            return None
        return cls(tuple(flags), str(data.get("source", RECORDED)), str(data.get("why", "")))

    @classmethod
    def from_args(cls, args: list[str], why: str) -> Calibration:
        """From a `quantize ...` argument list (a --rebuild or --hybrid line): its flags
        without the step, the mode and the file names."""
        flags: list[str] = []
        words = list(args)
        if words and words[0] == "quantize":
            words = words[1:]
        skip = False
        for word in words:
            if skip:
                skip = False
                continue
            name = word.split("=", 1)[0]
            if name in _MODE_FLAGS:
                continue
            if name in _FILE_FLAGS:
                skip = "=" not in word
                continue
            flags.append(word)
        return cls(tuple(flags), RECORDED, why)


def infer(doc: QuantizeDocument, files: cmd.ModelFiles) -> Calibration:
    """What `quanted hybrid` assumes for a file quanted did not quantize and no --rebuild line
    was given for: the guide's --rebuild line (its --compute-entropy included) with the
    file's own quantizer and qtype and one pass over the dataset listing."""
    quantizer, qtype = cmd.dominant_quantization(doc)
    flags = ["--quantizer", quantizer, "--qtype", qtype]
    iterations = cmd.dataset_size(files.inputmeta)
    if iterations:
        flags += ["--iterations", str(iterations)]
    flags.append("--compute-entropy")
    why = ("inferred: quanted did not quantize this file; the guide's --rebuild line with the "
           f"file's quantizer and qtype, {iterations or 'the engine default of 1'} "
           "iteration(s) and --compute-entropy (`quanted hybrid --from-command` records the "
           "real line)")
    return Calibration(tuple(flags), INFERRED, why)


@dataclass(frozen=True)
class Compared:
    """One calibration `quanted quantize --compare` measured: the plain model it makes."""

    name: str  # "default", "kld"
    flags: tuple[str, ...]
    min_cosine: float | None
    top1_agree: int | None
    count: int | None


def compared(quantize: Path, iterations: int) -> list[Compared]:
    """The calibrations of the newest `--compare` on `iterations` inputs (none when it was
    made on other inputs: figures over other inputs do not compare)."""
    from quanted.core.state.history import History

    entries = History(quantize).entries("compare")
    if not entries or entries[-1].data.get("iterations") != iterations:
        return []
    found = []
    sides = entries[-1].data.get("sides")
    for name, side in (sides.items() if isinstance(sides, dict) else []):
        if not isinstance(side, dict):
            continue
        raw = side.get("summary")
        summary: dict = raw if isinstance(raw, dict) else {}
        flags = side.get("calibration")
        found.append(Compared(str(name), tuple(flags) if isinstance(flags, list) else (),
                              summary.get("min_cosine"), summary.get("top1_agree"),
                              summary.get("count")))
    return found
