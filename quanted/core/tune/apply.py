"""After the search: the found set becomes the file's customized list (an edit: only the block's
lines change, every added line says why it is there), the hybrid quantize runs in the user's
folder with the trials' own command, and `verify` measures the result independently."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline, hybrid, verify
from quanted.core.engine.outputs import VerifySummary
from quanted.core.engine.step import Cancel, Events, StepCancelled, StepEnded, result_of
from quanted.core.errors import FileChangedError
from quanted.core.disk.files import locked
from quanted.core.disk.saving import atomic_write
from quanted.core.state.history import History
from quanted.core.tune import runner
from quanted.core.tune.figures import Target, from_verify
from quanted.core.tune.progress import Event, Note, PhaseStarted
from quanted.core.tune.rank import Ranking
from quanted.core.tune.search import Outcome
from quanted.core.tune.session import Setup


@dataclass
class Applied:
    backup: Path  # the file as it was before the edit, in .quanted/history/
    added: list[str] = field(default_factory=list)  # layers new to the list (commented)
    removed: dict[str, str] = field(default_factory=dict)  # entries the search did not keep
    hybrid: hybrid.HybridResult | None = None
    cleaned: list[str] = field(default_factory=list)  # entries the engine appended, removed
    verify: verify.VerifyResult | None = None
    status: int = 0

    @property
    def summary(self) -> VerifySummary | None:
        return self.verify.summary() if self.verify is not None else None

    def meets(self, target: Target) -> bool:
        if self.verify is None or not self.verify.tensors:
            return False
        return from_verify(self.verify).meets(target)


def edit(setup: Setup, outcome: Outcome) -> Applied:
    """Write the found set as the customized list; the file must be as the tune found it."""
    doc = QuantizeDocument.open(setup.quantize)
    if doc.data != setup.doc.data:
        raise FileChangedError("changed on disk while the tune ran; its trials measured the "
                               "earlier file, so nothing was written", setup.quantize)
    before = doc.customized
    backup = History(setup.quantize).save_copy("before-tune", {
        "customized": before, "tune": outcome.customized})
    applied = Applied(backup)
    applied.removed, applied.added = write_into(doc, outcome.customized, setup.ranking)
    doc.save()
    return applied


def write_into(doc: QuantizeDocument, customized: dict[str, str], ranking: Ranking
               ) -> tuple[dict[str, str], list[str]]:
    """Make `customized` the document's list as one undoable edit (the editor's "apply" too):
    entries not in it go, new or changed ones get `# tune: drop=…, entropy=…`. Returns (the
    entries removed, the layers added or changed)."""
    before = doc.customized
    removed = {layer: q for layer, q in before.items() if layer not in customized}
    added = [layer for layer, q in customized.items() if before.get(layer) != q]
    with doc.batch():
        for layer in removed:
            doc.remove_layer(layer)
        doc.set_layers(customized)
        for layer in added:
            doc.set_comment(layer, ranking.comment(layer))
    return removed, added


def apply(setup: Setup, outcome: Outcome, on_event: Callable[[Event], None] = lambda e: None,
          on_line: Callable[[str], None] = lambda line: None,
          cancel: Cancel | None = None) -> Applied:
    """Edit, hybrid run, verify. A failed or cancelled hybrid run puts the file back as it was
    before the edit (TuneCancelled on cancel); `status` is what `quanted tune` exits with.
    The file's lock is held throughout: no other quanted writes it between the steps."""
    with locked(setup.quantize):
        return _apply(setup, outcome, on_event, on_line, cancel or Cancel())


def _apply(setup: Setup, outcome: Outcome, on_event: Callable[[Event], None],
           on_line: Callable[[str], None],
           cancel: Cancel) -> Applied:
    on_event(PhaseStarted("apply", f"writing {len(outcome.customized)} layer(s) into "
                                   f"{setup.quantize.name}"))
    applied = edit(setup, outcome)
    original = applied.backup.read_bytes()
    if not outcome.customized:
        # Nothing to raise: the file becomes the plain table the plain trial measured, not a
        # --hybrid run of an empty list, which can recalibrate (docs/format.md section 10).
        plain = baseline.splice_block(setup.base.data, QuantizeDocument.open(setup.quantize))
        atomic_write(setup.quantize, plain, force=True, lock=False)
        on_event(Note(f"no layer to raise: {setup.quantize.name} holds the plain table "
                      "again (no hybrid run)"))
        return _verify(setup, outcome, applied, on_event, on_line, cancel, 0)
    on_event(PhaseStarted("hybrid", f"pegasus quantize --hybrid in {setup.quantize.parent}"))
    # From the plain table, as every trial: layers an earlier run raised are not kept.
    the_plan = runner.hybrid_plan(setup.quantize, setup.command, from_base=True)
    try:
        result = hybrid.run(the_plan, Events(line=on_line), cancel, force=True)
    except KeyboardInterrupt:
        # ctrl+c outside the engine's log (hybrid.run turns one inside it into a cancel)
        atomic_write(setup.quantize, original, force=True)
        raise runner.TuneCancelled(f"cancelled before the hybrid run; {setup.quantize.name} "
                                   "is back as it was before the tune", setup.quantize) from None
    except StepEnded as ended:
        applied.hybrid = result_of(ended, hybrid.HybridResult)
        with locked(setup.quantize):
            atomic_write(setup.quantize, original, force=True)
        if isinstance(ended, StepCancelled):
            raise runner.TuneCancelled(f"cancelled during the hybrid run; {setup.quantize.name} "
                                       "is back as it was before the tune", setup.quantize,
                                       result=applied.hybrid) from None
        on_event(Note(f"the hybrid run failed ({applied.hybrid.restored}); "
                      f"{setup.quantize.name} is back as it was before the tune"))
        applied.status = applied.hybrid.status
        return applied
    applied.hybrid = result
    applied.cleaned = list(result.suggested)
    if applied.cleaned:
        on_event(Note(f"removed {len(applied.cleaned)} entr(y/ies) the engine appended but did "
                      f"not apply: {', '.join(applied.cleaned)}"))
    return _verify(setup, outcome, applied, on_event, on_line, cancel, result.status)


def _verify(setup: Setup, outcome: Outcome, applied: Applied,
            on_event: Callable[[Event], None], on_line: Callable[[str], None],
            cancel: Cancel, hybrid_status: int) -> Applied:
    on_event(PhaseStarted("verify", f"float vs the tuned model over {setup.iterations} "
                                    "input(s)"))
    vplan = verify.plan(QuantizeDocument.open(setup.quantize), shlex.join(setup.pegasus),
                        setup.iterations, check=setup.options.target.check)
    applied.verify = verify.run(vplan, Events(line=on_line), cancel)
    tuned = QuantizeDocument.open(setup.quantize)
    History(setup.quantize).record("tune", {
        "customized": tuned.customized, "block": tuned.block_text(),
        "summary": applied.summary.to_json() if applied.summary else None,
        "iterations": setup.iterations,
        "trials": len(outcome.trials), "minimal": outcome.minimal})
    applied.status = 0 if hybrid_status == 0 and applied.meets(setup.options.target) else 1
    return applied
