"""Drive the installed `quanted` binary in a real terminal (tmux): open, toggle, save, quit.

Uses the console script next to sys.executable (the venv's bin), so what `pip install -e .`
installed is what runs. Skipped when tmux is missing, except under CI (CI=true), where that fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_helpers import KHADAS, TOP

pytestmark = pytest.mark.tmux

QUANTED = Path(sys.executable).parent / "quanted"
TIMEOUT = 20.0


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is missing under CI", pytrace=False)
        pytest.skip("tmux is not installed")
    if not QUANTED.exists():
        pytest.fail(f"{QUANTED} is missing: run `pip install -e .`", pytrace=False)
    socket = f"quanted-test-{os.getpid()}"

    def run(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], check=True, capture_output=True,
                              text=True, timeout=TIMEOUT).stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=TIMEOUT)


def wait_for(run, predicate, what: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    screen = ""
    while time.monotonic() < deadline:
        screen = run("capture-pane", "-p", "-t", "editor")
        if predicate(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")


def test_toggle_save_quit_in_tmux(tmux, quantize, original):
    # The fixture already lists the top layer; take it out so that space adds it.
    line = f"    {TOP}: dynamic_fixed_point-i16\n".encode()
    prepared = original.replace(line, b"")
    quantize.write_bytes(prepared)
    env = {"TERM": "xterm-256color"}
    command = f"cd {quantize.parent} && {QUANTED} {KHADAS}; echo quanted-exited-$?; sleep 60"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "editor", "-x", "120", "-y", "40",
         "-e", f"TERM={env['TERM']}", "env", f"TERM={env['TERM']}", "sh", "-c", command)
    tail = TOP.rsplit("/", 1)[1]  # Conv2D_82: the id's tail, which the table always shows
    wait_for(tmux, lambda s: tail in s and "saved" in s, "the top layer")
    tmux("send-keys", "-t", "editor", "Space")
    wait_for(tmux, lambda s: "UNSAVED" in s, "the unsaved mark")
    tmux("send-keys", "-t", "editor", "C-s")
    wait_for(tmux, lambda s: " saved " in s and "UNSAVED" not in s, "the save")
    tmux("send-keys", "-t", "editor", "C-q")
    wait_for(tmux, lambda s: "quanted-exited-0" in s, "the editor to quit with status 0")
    assert quantize.read_bytes() == prepared + line


def _big_file(folder: Path, layers: int = 20_000) -> tuple[Path, str]:
    """A file whose full rows take a while to build (the top rows are painted first), no layer
    customized; returns it and its top layer by max entropy."""
    from tests.core.docs import V2_HEADER, v2_tensor

    names = [f"blk.{i // 8}/op.{i % 8}/Conv_output_0_{i}" for i in range(layers)]
    quantize = folder / "big_uint8.quantize"
    quantize.write_text(V2_HEADER + "".join(v2_tensor(f"@{n}:out0") for n in names)
                        + "customized_quantize_layers:\nstable_quantize_tensors: {}\n")
    (folder / "entropy.txt").write_text(
        "".join(f"@{n}:out0, {0.9 - i / layers / 2!r}\n" for i, n in enumerate(names)))
    return quantize, names[0]


def _open_and_type_ahead(tmux, quantize: Path, top: str, *keys: str) -> None:
    """Open `quantize` and send `keys` the moment its top row is on screen."""
    command = f"cd {quantize.parent} && {QUANTED} {quantize.name}; echo quanted-exited-$?; sleep 60"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "editor", "-x", "120", "-y", "40",
         "-e", "TERM=xterm-256color", "env", "TERM=xterm-256color", "sh", "-c", command)
    tail = top.rsplit("/", 1)[1]
    wait_for(tmux, lambda s: tail in s, "the top row")
    tmux("send-keys", "-t", "editor", *keys)


def test_keys_typed_before_the_rows_are_built_are_applied(tmux, tmp_path):
    quantize, top = _big_file(tmp_path)
    before = quantize.read_bytes()
    _open_and_type_ahead(tmux, quantize, top, "Space", "C-s")
    wait_for(tmux, lambda s: " saved " in s and "UNSAVED" not in s and "loading" not in s,
             "the save")
    assert quantize.read_bytes() == before.replace(
        b"customized_quantize_layers:\n",
        f"customized_quantize_layers:\n  {top}: dynamic_fixed_point-i16\n".encode())
    tmux("send-keys", "-t", "editor", "C-q")
    wait_for(tmux, lambda s: "quanted-exited-0" in s, "the editor to quit")


def test_ctrl_q_after_an_early_edit_asks(tmux, tmp_path):
    quantize, top = _big_file(tmp_path)
    before = quantize.read_bytes()
    _open_and_type_ahead(tmux, quantize, top, "Space", "C-q")
    wait_for(tmux, lambda s: "Quit quanted?" in s and "unsaved changes" in s, "the question")
    tmux("send-keys", "-t", "editor", "d")
    wait_for(tmux, lambda s: "quanted-exited-0" in s, "the editor to quit")
    assert quantize.read_bytes() == before
