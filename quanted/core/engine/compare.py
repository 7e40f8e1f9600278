"""`quanted quantize --compare`: quantize with the default algorithm and with KL divergence,
each in a scratch folder, verify both against float with `quanted verify`'s own runs and
figures, and let the user choose which one to write (ACUITY's guide: try KLD, check whether
the precision is met).

    sides = compare(default_plan, pegasus, iterations, on_line, on_step)  # scratch runs
    choice = best_side(sides)                                              # or the user's
    quantize.adopt(the_plan_of(choice), choice.made)                       # then clean_up(sides)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import quantize as qz
from quanted.core.engine import verify
from quanted.core.engine.attempts import top1_text
from quanted.core.engine.calibration import Calibration
from quanted.core.engine.step import Events, StepEnded, result_of
from quanted.core.engine.verify import VerifyResult
from quanted.core.errors import QuantedError
from quanted.core.state.history import History

DEFAULT, KLD = "default", "kld"
# Written to a scratch folder, never linked: the engine rewrites NAME.data in place.
COPIED_SUFFIXES = (".data",)
SKIPPED = (".quanted", "entropy.txt")


class CompareCancelled(QuantedError):
    exit_code = 130


@dataclass
class Side:
    name: str  # DEFAULT or KLD
    plan: qz.QuantizePlan  # as it runs in the scratch folder
    result: qz.QuantizeResult | None = None
    verify: VerifyResult | None = None
    error: str | None = None

    @property
    def made(self) -> Path:
        return self.plan.quantize

    @property
    def summary(self) -> dict | None:
        """verify's figures as a dict (VerifySummary.to_json), None when not verified."""
        summary = self.verify.summary() if self.verify is not None else None
        return summary.to_json() if summary is not None else None


@dataclass
class QuantizeComparison:
    sides: list[Side]
    scratch: Path
    notes: list[str] = field(default_factory=list)

    def side(self, name: str) -> Side:
        return next(s for s in self.sides if s.name == name)

    def to_json(self) -> dict:
        return {s.name: {"command": s.plan.command, "error": s.error,
                         "summary": s.summary,
                         "verify": s.verify.to_json() if s.verify else None}
                for s in self.sides}


def scratch_copy(files: qz.ModelFiles, target: Path) -> None:
    """The model folder's inputs in `target`: NAME.data copied, everything else (the model,
    inputmeta, dataset listing and its inputs) linked, the quantized outputs left out."""
    target.mkdir(parents=True)
    for item in files.folder.iterdir():
        if item.name in SKIPPED or item.name.endswith((".quantize", ".quantize.json")):
            continue
        if item.suffix in COPIED_SUFFIXES or item == files.model:
            shutil.copy2(item, target / item.name)
        else:
            (target / item.name).symlink_to(item.absolute())


def kld_options(options: qz.QuantizeOptions) -> qz.QuantizeOptions:
    return replace(options, kld=True)


def default_options(options: qz.QuantizeOptions) -> qz.QuantizeOptions:
    return replace(options, kld=False, mle=False, bits=None)


def compare(
    the_plan: qz.QuantizePlan,
    pegasus: str | None,
    iterations: int,
    on_line: Callable[[str], None] = lambda line: None,
    on_step: Callable[[str], None] = lambda text: None,
    scratch: Path | None = None,
) -> QuantizeComparison:
    """Both quantizations and their verifies, in scratch folders under `scratch` (a new temp
    folder by default; `clean_up` removes it). A side that fails keeps its error."""
    base = scratch or Path(tempfile.mkdtemp(prefix="quanted-compare-"))
    result = QuantizeComparison([], base)
    try:
        for name, options in ((DEFAULT, default_options(the_plan.options)),
                              (KLD, kld_options(the_plan.options))):
            result.sides.append(_side(name, options, the_plan, pegasus, iterations, on_line,
                                      on_step, base))
    except BaseException:
        clean_up(result)  # cancelled or broken: no scratch folder left behind
        raise
    _record(the_plan, result, iterations)
    return result


def _record(the_plan: qz.QuantizePlan, result: QuantizeComparison, iterations: int) -> None:
    """Each calibration's plain figures, in the file's history: the seed's first lever (KLD
    before hybrid), shown by `quanted tune` as operating points of their own."""
    sides = {}
    for side in result.sides:
        words = side.plan.command
        args = words[words.index("quantize"):] if "quantize" in words else words
        sides[side.name] = {"calibration": list(Calibration.from_args(args, "").flags),
                            "summary": side.summary, "error": side.error}
    History(the_plan.quantize).record("compare", {"iterations": iterations, "sides": sides})


def _side(name: str, options: qz.QuantizeOptions, the_plan: qz.QuantizePlan,
          pegasus: str | None, iterations: int, on_line: Callable[[str], None],
          on_step: Callable[[str], None], base: Path) -> Side:
    folder = base / name
    scratch_copy(the_plan.files, folder)
    side = Side(name, qz.plan(folder / the_plan.files.model.name, options, pegasus))
    on_step(f"{name}: {' '.join(side.plan.command)}")
    try:
        side.result = qz.run(side.plan, Events(line=on_line), fresh=True, record=False)
    except StepEnded as ended:
        if ended.exit_code == 130:
            raise CompareCancelled(f"--compare cancelled during the {name} run",
                                   the_plan.quantize) from None
        side.result = result_of(ended, qz.QuantizeResult)
        side.error = "; ".join([side.result.restored or f"status {side.result.status}",
                                *side.result.hints])
        return side
    on_step(f"{name}: verify over {iterations} input(s)")
    try:
        doc = QuantizeDocument.open(side.plan.quantize)
        side.verify = verify.run(verify.plan(doc, pegasus, iterations), Events(line=on_line))
    except QuantedError as exc:
        if exc.exit_code == 130:
            raise
        side.error = exc.message
    return side


def best_side(result: QuantizeComparison) -> Side | None:
    """The side with the higher mean cosine; a tie goes to the default (the cheaper run)."""
    scored = [(s.summary["mean_cosine"], s.name == DEFAULT, s) for s in result.sides
              if s.summary and s.summary.get("mean_cosine") is not None]
    return max(scored, key=lambda t: t[:2])[2] if scored else None


def figures_lines(result: QuantizeComparison) -> list[str]:
    """The two sides' verify figures side by side."""
    rows = [("mean cosine", "mean_cosine", "{:.6f}"), ("min cosine", "min_cosine", "{:.6f}"),
            ("max abs error", "max_abs_error", "{:.6f}"),
            ("mean top-5 overlap", "mean_top5_overlap", "{:.2f}")]
    width = 22
    lines = ["".ljust(width) + "".join(s.name.ljust(width) for s in result.sides).rstrip()]
    for title, key, fmt in rows:
        cells = []
        for side in result.sides:
            value = side.summary.get(key) if side.summary else None
            cells.append("-" if value is None else fmt.format(value))
        lines.append(title.ljust(width) + "".join(c.ljust(width) for c in cells).rstrip())
    top1 = [top1_text(s.summary) if s.summary else "-"
            for s in result.sides]
    lines.append("top-1 agrees".ljust(width) + "".join(c.ljust(width) for c in top1).rstrip())
    for side in result.sides:
        if side.error:
            lines.append(f"{side.name}: failed: {side.error}")
    return lines


def clean_up(result: QuantizeComparison) -> None:
    shutil.rmtree(result.scratch, ignore_errors=True)
