"""TensorFlow's start-up chatter in pegasus's log, kept out of the user's sight but not lost.

acuitylite imports TensorFlow, which prints lines such as
`2026-11-27 04:41:43.509243: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:485]
Unable to register cuFFT factory: ...` on every run. They start with `E` but say nothing about
the model, and users read them as the engine's errors. Every line still goes to a log file."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from quanted.core.engine.logscan import strip_ansi
from quanted.core.errors import QuantedError
from quanted.core.disk.files import glob_escape
from quanted.core.state.history import new_stamp, open_dir

LOG_DIR = Path(".quanted") / "logs"
KEEP_LOGS = 20  # per .quantize file; older ones are removed when a new one is made

NOISE = (
    # TensorFlow's C++ logging: `2026-11-27 04:41:43.509243: E external/local_xla/...cc:485] ...`
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "
               r"(external|tensorflow|third_party|xla)/\S+:\d+\] "),
    # absl logging, used by newer TensorFlow/XLA: `E0000 00:00:1732... 123 cuda_dnn.cc:8454] ...`
    re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+\.(cc|h):\d+\] "),
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
)


def is_noise(line: str) -> bool:
    plain = strip_ansi(line)
    return any(pattern.match(plain) for pattern in NOISE)


class KeptLog:
    """An `on_line` wrapper: every line goes to `path`; only lines that are not noise go on.

    `with closing(KeptLog(quantize, "hybrid", on_line)) as log:
        hybrid.run(plan, Events(line=log), cancel)`"""

    def __init__(self, quantize: Path, kind: str, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.hidden = 0
        self.lines = 0
        self.path, self._file = _open_log(quantize, kind)

    def __call__(self, line: str) -> None:
        self._file.write(strip_ansi(line) + "\n")
        self.lines += 1
        if is_noise(line):
            self.hidden += 1
        else:
            self.on_line(line)

    def close(self) -> None:
        self._file.close()

    def describe(self) -> str:
        """`engine log: PATH (3 TensorFlow start-up lines hidden)`."""
        hidden = f" ({self.hidden} TensorFlow start-up line{'s' * (self.hidden != 1)} hidden)"
        return f"engine log: {self.path}{hidden if self.hidden else ''}"



def _open_log(quantize: Path, kind: str) -> tuple[Path, IO[str]]:
    """`.quanted/logs/NAME.STAMP.KIND.log` beside the file; a temporary file when that folder
    cannot be written (a read-only model folder must not stop the run)."""
    stamp = new_stamp()
    folder = quantize.parent / LOG_DIR
    name = f"{quantize.name}.{stamp}.{kind}.log"
    try:
        # Never through a planted link: each step of .quanted/logs is opened with O_NOFOLLOW.
        with open_dir(quantize.parent, LOG_DIR.parts, create=True) as dir_fd:
            assert dir_fd is not None  # create=True makes it
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | getattr(os, "O_CLOEXEC", 0), 0o644, dir_fd=dir_fd)
        path, handle = folder / name, os.fdopen(fd, "w", encoding="utf-8")
    except (OSError, QuantedError):
        fd, name = tempfile.mkstemp(prefix=f"quanted-{kind}-", suffix=".log")
        return Path(name), os.fdopen(fd, "w", encoding="utf-8")
    _prune(folder, quantize.name)
    return path, handle


def _prune(folder: Path, name: str) -> None:
    logs = sorted(folder.glob(f"{glob_escape(name)}.*.log"))
    for old in logs[:-KEEP_LOGS]:
        try:
            old.unlink()
        except OSError:
            pass
