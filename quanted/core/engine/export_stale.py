"""Whether NAME_POSTFIX.quantize.json (the model the last hybrid run wrote) still matches the
.quantize file, so that an export from the two holds what the user asked for.

The file's modification time cannot tell: quanted saves the file again right after a hybrid
run to put the user's comments back, so the file is always newer than its model. The rule:

1. The model's converter layers (those NAME.json does not have) must all have entries in the
   file. When they do not, the file was rebuilt or replaced after the hybrid run, and the
   engine exports them silently as float32 (measured: acuitylite 6.57.1 logs
   `D ... Tensor @L:out0 type: float32` and exits 0).
2. The customized list (layers and qtypes) must be the one the last hybrid run was made with,
   as `.quanted/history/` recorded it (`hybrid`, or `tune`, whose apply ends with a hybrid
   run), and no rebuild (`quantize`) may have come after that run.
3. Without such a record, or when the model is newer than it (a run quanted did not make),
   the customized layers must be applied in quantize_parameters (verify.not_applied).

    reasons = stale_reasons(path, doc)     # [] when an export now holds the customized list
"""

from __future__ import annotations

from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.engine.verify import not_applied
from quanted.core.errors import QuantedError
from quanted.core.state.history import Entry, History, stamp_for_people, stamp_time

RUN_KINDS = ("hybrid", "tune", "quantize")  # what changes the model or quantize_parameters
SHOWN = 3  # layers named per kind of change; the rest are counted


def stale_reasons(quantize: Path, doc: QuantizeDocument) -> list[str]:
    """Why an export now would not hold the customized list; [] when it would. Each reason
    names what changed; the fix is always a hybrid run."""
    model = cmd.hybrid_model(quantize)
    if not model.is_file():
        if not doc.customized:
            return []
        return [f"{model.name} does not exist: the hybrid run has not been made, so the export "
                f"would not contain the {len(doc.customized)} customized layer(s)"]
    missing = _converters_without_entries(quantize, model, doc)
    if missing:
        return [f"{model.name} has {len(missing)} converter layer(s) {quantize.name} has no "
                f"entries for ({_names(missing)}): the file was rebuilt or replaced after the "
                "hybrid run, and the export would run them in float32"]
    last = _last_run(quantize)
    if last is None or _stamp_seconds(last) < model.stat().st_mtime:
        return _unapplied(quantize, model, doc)
    when = f"attempt {last.id}, {stamp_for_people(last.time)}"
    if last.kind == "quantize":
        return [f"{quantize.name} was rebuilt ({when}) after the hybrid run that made "
                f"{model.name}"]
    ran = _recorded_list(last)
    changes = describe_changes(ran, doc.customized)
    if not changes:
        return []
    return [f"the customized list changed since the hybrid run that made {model.name} "
            f"({when}): {changes}"]


def describe_changes(before: dict[str, str], after: dict[str, str]) -> str:
    """`added a (float16); removed b; retyped c (i16 -> float16)`, at most SHOWN layers each;
    "" when the lists are the same (order does not matter to the engine)."""
    added = [f"{k} ({v})" for k, v in after.items() if k not in before]
    removed = [k for k in before if k not in after]
    retyped = [f"{k} ({before[k]} -> {v})" for k, v in after.items()
               if k in before and before[k] != v]
    parts = [f"{verb} {_names(items)}" for verb, items in
             (("added", added), ("removed", removed), ("retyped", retyped)) if items]
    return "; ".join(parts)


def _names(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _converters_without_entries(quantize: Path, model: Path, doc: QuantizeDocument
                                ) -> list[str]:
    try:
        original = set(read_layers(cmd.model_files(quantize).model))
        hybrid = read_layers(model)
    except (ModelError, QuantedError):
        return []  # cannot be told: the other rules still apply
    have = set(doc.layer_ids)
    return [layer for layer in hybrid if layer not in original and layer not in have]


def _last_run(quantize: Path) -> Entry | None:
    runs = [entry for entry in History(quantize).entries() if entry.kind in RUN_KINDS]
    return runs[-1] if runs else None


def _recorded_list(entry: Entry) -> dict[str, str]:
    """The list in the file when the run ended (`customized_after`: the engine may append
    entries), else the list it was started with."""
    value = entry.data.get("customized_after", entry.data.get("customized"))
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _stamp_seconds(entry: Entry) -> float:
    """When the record was written (after its run ended); 0 when the stamp is unreadable, so
    that the model counts as newer and rule 3 applies."""
    when = stamp_time(entry.time)
    return 0.0 if when is None else when.timestamp()


def _unapplied(quantize: Path, model: Path, doc: QuantizeDocument) -> list[str]:
    if model.stat().st_mtime_ns >= quantize.stat().st_mtime_ns:
        return []
    pending = not_applied(doc)
    if not pending:
        return []
    return [f"{model.name} is older than {quantize.name} and {len(pending)} customized "
            f"layer(s) are not applied yet ({_names(pending)}): the export would not contain "
            "them"]
