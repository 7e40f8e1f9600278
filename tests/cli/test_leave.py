"""The `quanted` command leaves without the interpreter's teardown only when that skips
nothing: its output is all there, its status is main()'s, and an atexit callback or a
thread still running gets the ordinary exit."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO
from tests.core.docs import v2_doc


def python(code: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, text=True,
                          capture_output=True, timeout=120, **kwargs)


def test_buffered_output_is_flushed_and_the_status_kept():
    done = python("import sys\nfrom quanted.cli.dispatch import leave\n"
                  "sys.stdout.write('out'); sys.stderr.write('err'); leave(4)")
    assert (done.returncode, done.stdout, done.stderr) == (4, "out", "err")


def test_an_atexit_callback_still_runs():
    done = python("import atexit\nfrom quanted.cli.dispatch import leave\n"
                  "atexit.register(print, 'callback ran')\nleave(3)")
    assert (done.returncode, done.stdout) == (3, "callback ran\n")


def test_a_thread_still_running_is_waited_for():
    # The thread prints what it reads; the line is sent only once leave() is under way.
    code = ("import sys, threading\nfrom quanted.cli.dispatch import leave\n"
            "threading.Thread(target=lambda: print(sys.stdin.readline().strip(), flush=True))"
            ".start()\nprint('leaving', flush=True)\nleave(5)")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline() == "leaving\n"
    child.stdin.write("late\n")
    child.stdin.close()
    assert child.stdout.read() == "late\n"
    assert child.wait(timeout=120) == 5


def test_the_command_prints_all_and_exits_with_mains_status(tmp_path):
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc(layers=("a", "b")))
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    added = subprocess.run([sys.executable, "-m", "quanted", "add", str(path), "a", "b"],
                           cwd=REPO, env=env, text=True, capture_output=True, timeout=120)
    assert added.returncode == 0
    assert added.stdout == ("added a: dynamic_fixed_point-i16\n"
                            "added b: dynamic_fixed_point-i16\n")
    refused = subprocess.run([sys.executable, "-m", "quanted", "add", str(path), "nosuch"],
                             cwd=REPO, env=env, text=True, capture_output=True, timeout=120)
    assert refused.returncode == 1
    assert refused.stderr.endswith("layer 'nosuch' is not in quantize_parameters\n")
