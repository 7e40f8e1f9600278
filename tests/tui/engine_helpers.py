"""Shared by the run and verify screen tests: stand-in engines, model files beside the khadas
fixture, and waiting for a screen state."""

from __future__ import annotations

import json
import stat
import sys
import time
from pathlib import Path

from rich.console import Console

from tui_helpers import KHADAS

# The model files `hybrid_args`/`plan_verify` want beside khadas_mobilenet_tf.quantize.
KHADAS_MODEL = KHADAS[: -len(".quantize")]
OUTPUT = "attach_output/out0_0"

# Prints a coloured engine-like log (fixed times), records its arguments, leaves the file.
RUN_STAND_IN = f"""#!{sys.executable}
import sys
with open("calls.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
print("\\x1b[32mI 10:00:00 Start quantization...\\x1b[0m", flush=True)
print("D 10:00:01 Load model khadas_mobilenet_tf.json", flush=True)
print("\\x1b[33mW 10:00:02 Hybrid qtype 'dynamic_fixed_point-i16' could not be applied for "
      "layer 'MobilenetV1/MobilenetV1/Conv2d_0/Conv2D_88'\\x1b[0m", flush=True)
print("\\x1b[32mI 10:00:03 End quantization...\\x1b[0m", flush=True)
"""


def install_stand_in(folder: Path, body: str, monkeypatch) -> Path:
    """`pegasus` on PATH (and QUANTED_PEGASUS=pegasus): no tmp path in the command shown."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "pegasus"
    script.write_text(body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("QUANTED_PEGASUS", "pegasus")
    monkeypatch.delenv("ACUITY_PATH", raising=False)
    return script


def khadas_model_files(folder: Path) -> None:
    """NAME.json (one class-score output: a softmax feeds it), NAME.data, NAME_inputmeta.yml
    for the khadas copy."""
    model = {"Layers": {"input_1": {"op": "input", "outputs": ["out0"]},
                        "prob_2": {"op": "softmax", "inputs": ["@input_1:out0"],
                                   "outputs": ["out0"]},
                        OUTPUT: {"op": "output", "inputs": ["@prob_2:out0"],
                                 "outputs": ["out0"]}}}
    (folder / f"{KHADAS_MODEL}.json").write_text(json.dumps(model))
    (folder / f"{KHADAS_MODEL}.data").write_bytes(b"\0" * 16)
    (folder / f"{KHADAS_MODEL}_inputmeta.yml").write_text("input_meta: {}\n")


async def wait_for(pilot, condition, timeout: float = 10.0, what: str = "condition") -> None:
    """Let the app run until `condition()` holds (engine runs take seconds, not frames)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.05)


def plain(renderable, width: int = 160) -> str:
    """What a Rich renderable (a Static's content) reads as, without styles."""
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()
