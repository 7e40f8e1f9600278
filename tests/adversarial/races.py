"""A real second process racing quanted on a 15 MB file: it rewrites a line in place (same
size), renames a changed copy over the file, rewrites in place and puts the old mtime back,
or truncates the file, at a random moment of a `check`, `layers`, `add`, `remove` or an
editor's save (its core calls, in a process of their own). Each try is judged by what is on
disk afterwards and what a later `check` and `add` say:

- fooled: a later check passed a file the full scan rejects, or a later add wrote it;
- rejected: a racing add/remove/save wrote (exit 0) a file built on a rejected one;
- lost: the racing edit said it saved (exit 0) and the other program's change is gone;
- mixed: the file is none of the versions either side could have left.

`python -m tests.adversarial.races [TRIES] [--code DIR]` runs every command with every writer
TRIES times and prints the counts; `--code DIR` runs the quanted found in DIR (a checkout's
root) instead, for a before/after comparison. tests/adversarial/test_races.py runs a short
sweep of it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.core.docs import v2_doc

COMMANDS = ("check", "layers", "add", "remove", "editor")
WRITERS = ("in_place", "renamed_over", "mtime_put_back", "truncated")
LAYERS = 30_000  # 60,000 tensors: about 15 MB

# Same size as the line they replace: GOOD is a change the full scan accepts, BAD one it
# rejects (an unclosed quote).
ORIGINAL = b"    rounding: rtne\n"
GOOD = b"    rounding: rtzz\n"
BAD = b"    rounding: 'tne\n"

# The second process: waits DELAY seconds, then changes the file as KIND says, REPLACEMENT
# for the line at OFFSET. It prints whether the file it changed was already edited (its size
# is not SIZE) and whether its change landed in the file at PATH (not in one a rename had
# already replaced: any rename-based save races a writer that opened the file before it),
# looked at before and after its write.
WRITER = """
import os, sys, time
path, kind, offset, replacement, delay, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), \\
    sys.argv[4].encode().decode("unicode_escape").encode("latin-1"), float(sys.argv[5]), \\
    int(sys.argv[6])
time.sleep(delay)
if kind == "renamed_over":
    with open(path, "rb") as f:
        data = f.read()
    other = path + ".other"
    with open(other, "wb") as f:
        f.write(data[:offset] + replacement + data[offset + len(replacement):])
    os.replace(other, path)
    print(len(data) != size, True, True)
else:
    fd = os.open(path, os.O_RDWR)
    st = os.fstat(fd)
    before = os.stat(path).st_ino == st.st_ino
    if kind == "truncated":
        os.ftruncate(fd, st.st_size // 2)
    else:
        os.pwrite(fd, replacement, offset)
        if kind == "mtime_put_back":
            os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
    print(st.st_size != size, before, os.stat(path).st_ino == st.st_ino)
    os.close(fd)
"""

# The editor's save, as screens/main.py makes it: a fast open, an edit, save() (exit 1 on a
# conflict, 2 on an unreadable file).
EDITOR = """
import sys
from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import FileChangedError, QuantedError
try:
    doc = QuantizeDocument.open(sys.argv[1], full=False)
    doc.set_layer("l7", "float16")
    doc.save()
except FileChangedError:
    sys.exit(1)
except QuantedError as exc:
    sys.exit(exc.exit_code)
"""


def model_bytes() -> bytes:
    return v2_doc(layers=[f"l{i}" for i in range(LAYERS)],
                  customized="customized_quantize_layers:\n  l1: float16\n").encode()


class Sweep:
    """Tries of one command against one writer, in `folder`; `code`: the root of the quanted
    to run (None: the one installed)."""

    def __init__(self, folder: Path, code: Path | None = None) -> None:
        self.folder = folder
        self.original = model_bytes()
        self.offset = self.original.index(ORIGINAL, len(self.original) // 2)
        self.path = folder / "m_uint8.quantize"
        self.env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache")}
        if code is not None:
            self.env["PYTHONPATH"] = str(code)
        self.counts: Counter[str] = Counter()
        self.span = 0.0  # how long a command takes unraced: the writer's delays cover it

    def _quanted(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "quanted", *args]

    def _command(self, command: str) -> list[str]:
        path = str(self.path)
        if command == "editor":
            return [sys.executable, "-c", EDITOR, path]
        if command == "add":
            return self._quanted("add", path, "l7")
        if command == "remove":
            return self._quanted("remove", path, "l1")
        return self._quanted(command, path)

    def _edited(self, command: str, data: bytes) -> bytes:
        """`data` as the command would leave it (check and layers write nothing)."""
        if command in ("add", "editor"):
            qtype = "float16" if command == "editor" else "dynamic_fixed_point-i16"
            return data.replace(b"  l1: float16\n", b"  l1: float16\n  l7: " + qtype.encode()
                                + b"\n")
        if command == "remove":
            return data.replace(b"customized_quantize_layers:\n  l1: float16\n",
                                b"customized_quantize_layers: {}\n")
        return data

    def _changed(self, writer: str, data: bytes, line: bytes) -> bytes:
        if writer == "truncated":
            return data[: len(data) // 2]
        return data[: self.offset] + line + data[self.offset + len(line):]

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=self.env, cwd=self.folder, capture_output=True,
                              text=True, timeout=300)

    def calibrate(self) -> None:
        self.path.write_bytes(self.original)
        started = time.monotonic()
        self._run(self._quanted("add", str(self.path), "l7"))
        self.span = time.monotonic() - started

    def race(self, command: str, writer: str, rng: random.Random) -> str:
        """One try; what it found ("ok" or one of the counted failures)."""
        shutil.rmtree(self.folder / "cache", ignore_errors=True)
        self.path.write_bytes(self.original)
        if command in ("add", "remove", "editor") and rng.random() < 0.5:
            # the version read may be one an earlier run vouched for (the verdict cache)
            self._run(self._quanted("check", str(self.path)))
        line = BAD if command in ("check", "layers") or rng.random() < 0.5 else GOOD
        delay = rng.uniform(0.0, self.span * 1.3)
        other = subprocess.Popen([sys.executable, "-c", WRITER, str(self.path), writer,
                                  str(self.offset), line.decode("latin-1"), f"{delay:.4f}",
                                  str(len(self.original))], env=self.env, text=True,
                                 stdout=subprocess.PIPE)
        done = self._run(self._command(command))
        saw_edit, in_file, landed = (word == "True"
                                     for word in other.communicate(timeout=60)[0].split())
        final = self.path.read_bytes()
        theirs = self._changed(writer, self.original, line)
        if command in ("check", "layers"):
            verdict = self._judge_later(final)
            return verdict if final == theirs else "mixed"
        mine = self._edited(command, self.original)
        if not landed:  # they wrote to the file this edit had replaced (or was replacing)
            if final != mine or done.returncode != 0:
                return "mixed"
            return "ok" if not in_file else "undecided (their write met the rename)"
        if saw_edit:  # they changed the edited file: theirs on top of it
            return self._judge_later(final) if final == self._changed(writer, mine, line) \
                else "mixed"
        if final == mine:
            return "lost"
        if done.returncode != 0:
            return self._judge_later(final) if final == theirs else "mixed"
        if final == self._edited(command, theirs):
            rejected = line == BAD or writer == "truncated"
            return "rejected" if rejected else self._judge_later(final)
        if final == theirs and writer == "renamed_over":
            return self._judge_later(final)  # their rename came after this edit's
        return "mixed"

    def _judge_later(self, final: bytes) -> str:
        """A later check and add see the file for what it is."""
        rejected = final.find(BAD) >= 0 or len(final) < len(self.original) // 2 + 1000
        check = self._run(self._quanted("check", str(self.path)))
        if rejected and check.returncode == 0:
            return "fooled"
        if rejected:
            add = self._run(self._quanted("add", str(self.path), "l9"))
            if add.returncode == 0 or self.path.read_bytes() != final:
                return "fooled"
        return "ok"

    def sweep(self, tries: int, commands=COMMANDS, writers=WRITERS, seed: int = 0) -> Counter:
        rng = random.Random(seed)
        for _ in range(tries):
            for command in commands:
                for writer in writers:
                    found = self.race(command, writer, rng)
                    self.counts[found] += 1
                    if found != "ok":
                        self.counts[f"{found}: {command} vs {writer}"] += 1
        return self.counts


def main() -> None:
    args = sys.argv[1:]
    code = None
    if "--code" in args:
        at = args.index("--code")
        code = Path(args[at + 1]).resolve()
        del args[at : at + 2]
    tries = int(args[0]) if args else 3
    with tempfile.TemporaryDirectory() as folder:
        sweep = Sweep(Path(folder), code)
        sweep.calibrate()
        print(f"an unraced add: {sweep.span * 1000:.0f} ms; {tries} tries of "
              f"{len(COMMANDS)} commands x {len(WRITERS)} writers")
        for name, count in sorted(sweep.sweep(tries).items()):
            print(f"{count:5d}  {name}")


if __name__ == "__main__":
    main()
