"""Reading pegasus's log: it exits 0 even when a hybrid edit was not applied (acuitylite
6.57.1 only logs it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
LEVEL = re.compile(r"^(?P<level>[DIWE]) \d\d:\d\d:\d\d (?P<text>.*)$")
NOT_APPLIED = re.compile(r"Hybrid qtype '(?P<qtype>[^']*)' could not be applied "
                         r"for layer '(?P<layer>[^']*)'")
UNSUPPORTED = re.compile(r"Unsupported quantizer(?P<rest>.*)")
CONVERTER_ERROR = re.compile(r"qnt_insert_converter_layer error: (?P<detail>.*)")
QUOTED = re.compile(r"'([^']+)'")


def strip_ansi(line: str) -> str:
    return ANSI.sub("", line)


@dataclass(frozen=True)
class Failure:
    kind: str  # "not-applied", "unsupported", "converter-error", "error"
    message: str  # the log line, without colour
    layer: str | None = None
    qtype: str | None = None

    def describe(self) -> str:
        who = f"layer {self.layer!r}: " if self.layer else ""
        return f"{who}{self.message}"


def scan_line(line: str, customized: dict[str, str] | None = None) -> Failure | None:
    """The per-layer failure a log line reports, if any."""
    plain = strip_ansi(line).rstrip()
    match = LEVEL.match(plain)
    text = match["text"] if match else plain
    found = NOT_APPLIED.search(text)
    if found:
        return Failure("not-applied", text, found["layer"], found["qtype"])
    found = UNSUPPORTED.search(text)
    if found:
        layer, qtype = _named_layer(text, customized)
        return Failure("unsupported", text, layer, qtype)
    found = CONVERTER_ERROR.search(text)
    if found:
        layer, qtype = _named_layer(text, customized)
        return Failure("converter-error", text, layer, qtype)
    if match and match["level"] == "E":
        layer, qtype = _named_layer(text, customized)
        return Failure("error", text, layer, qtype)
    return None


def _named_layer(text: str, customized: dict[str, str] | None) -> tuple[str | None, str | None]:
    """The customized layer a line is about: named in quotes, or the layer(s) whose qtype the
    line names (`Unsupported quantizer : int4, insert converter layer maybe failed.`)."""
    if not customized:
        return None, None
    for word in QUOTED.findall(text):
        if word in customized:
            return word, customized[word]
    for qtype in dict.fromkeys(customized.values()):
        if qtype and re.search(rf"(?<![\w-]){re.escape(qtype)}(?![\w-])", text):
            layers = [layer for layer, q in customized.items() if q == qtype]
            return ", ".join(layers), qtype
    return None, None
