"""Carrying a user's customized_quantize_layers across a `pegasus quantize --rebuild`, which
writes a fresh file: the entries that still name layers of the new file are set again, with
their comments; the others are reported (their comments stay, naming the layer)."""

from __future__ import annotations

from dataclasses import dataclass, field

from quanted.core.document import comments as comment_carry
from quanted.core.document.model import QuantizeDocument
from quanted.core.document.lookup import missing_layers


@dataclass
class CarryOver:
    carried: dict[str, str] = field(default_factory=dict)  # layer -> qtype, set in the new file
    kept: list[str] = field(default_factory=list)  # the new file already had them, same qtype
    missing: dict[str, str] = field(default_factory=dict)  # layers the new file does not have
    comments: int = 0  # comments put back

    def to_json(self) -> dict:
        return {"carried": self.carried, "kept": self.kept, "missing": self.missing,
                "comments": self.comments}

    def lines(self) -> list[str]:
        out = []
        if self.carried:
            out.append(f"carried over {len(self.carried)} customized layer(s) from the old file "
                       f"(the new file had {len(self.kept)} of its entries already)")
        elif self.kept:
            out.append(f"the new file already has the old file's {len(self.kept)} entries")
        if self.comments:
            out.append(f"put back {self.comments} comment(s)")
        for layer, qtype in self.missing.items():
            out.append(f"not carried over: {layer}: {qtype} (no such layer in the new file)")
        return out


def carry_customized(old: QuantizeDocument, new: QuantizeDocument) -> CarryOver:
    """Edit `new` (one undo step, not saved) so it holds `old`'s customized entries and
    comments. Entries the engine pre-filled into `new` stay; an entry in both takes `old`'s
    qtype, since that is what the user chose."""
    result = CarryOver()
    already = new.customized
    gone = missing_layers(new, old.customized)
    for layer, qtype in old.customized.items():
        if already.get(layer) == qtype:
            result.kept.append(layer)
        elif layer not in gone:
            result.carried[layer] = qtype
        else:
            result.missing[layer] = qtype
    with new.batch():
        new.set_layers(result.carried)
        result.comments = comment_carry.carry_over(comment_carry.collect(old.block_state), new)
    return result
