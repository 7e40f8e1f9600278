"""The in-progress marker: written in `.quanted/` before an engine run rewrites a file, removed
when the run is over and the file is safe. A marker left behind means quanted was killed
(SIGKILL, power loss) mid-run: the file may be what pegasus left, half written. Edits are
refused until the user chooses: `quanted recover FILE` (put back the copy from before the
run) or `quanted recover FILE --keep` (keep the file as it is)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quanted.core.format.entropy import ENGINE_WRITES
from quanted.core.errors import EditError, ReadError
from quanted.core.disk.files import is_locked_elsewhere, locked, read_bytes
from quanted.core.disk.saving import atomic_write
from quanted.core.state.history import STATE_DIR, Entry, History, open_dir, safe_name, warn
from quanted.core.state.inprogress import marker_name

_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


_marker_name = marker_name


@dataclass(frozen=True)
class Interrupted:
    """A run that started on the file and never finished."""

    quantize: Path
    kind: str
    pid: int
    started: str
    backup: Path | None
    entropy_backup: Path | None

    def describe(self) -> str:
        what = (f"a {self.kind} run (pid {self.pid}, started {self.started}) was stopped "
                "before it finished; the file may be what pegasus left")
        if self.backup is None:
            return f"{what} (its copy from before the run is missing)"
        return f"{what}; the copy from before the run is {self.backup}"

    def advice(self) -> str:
        return (f"run `quanted recover {self.quantize}` to put that copy back, or "
                f"`quanted recover {self.quantize} --keep` to keep the file as it is")


def mark(quantize: Path, kind: str, backup: Path, entropy_backup: Path | None,
         command: list[str]) -> None:
    """Write the marker (atomically, inside `.quanted/`, following no links)."""
    data = {"kind": kind, "pid": os.getpid(), "started": datetime.now().isoformat(" ", "seconds"),
            "file": quantize.name, "backup": backup.name,
            "entropy_backup": entropy_backup.name if entropy_backup else None,
            "command": command}
    name = _marker_name(quantize)
    with open_dir(quantize.parent, (STATE_DIR,), create=True) as fd:
        assert fd is not None
        tmp = f".{name}.{os.getpid()}.tmp"
        try:
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o666,
                          dir_fd=fd)
            try:
                os.write(out, json.dumps(data).encode("utf-8"))
                os.fsync(out)
            finally:
                os.close(out)
            os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
            os.fsync(fd)  # the marker must survive a power loss that the run may not
        except OSError as exc:
            raise ReadError(f"cannot write {name}: {exc.strerror or exc}",
                            quantize.parent / STATE_DIR) from None


def clear(quantize: Path) -> None:
    with open_dir(quantize.parent, (STATE_DIR,), create=False) as fd:
        if fd is None:
            return
        try:
            os.unlink(_marker_name(quantize), dir_fd=fd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ReadError(f"cannot remove {_marker_name(quantize)}: {exc.strerror}",
                            quantize.parent / STATE_DIR) from None


def _read(quantize: Path) -> dict | None:
    try:
        with open_dir(quantize.parent, (STATE_DIR,), create=False) as fd:
            if fd is None:
                return None
            try:
                handle = os.open(_marker_name(quantize), os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW,
                                 dir_fd=fd)
            except FileNotFoundError:
                return None
            try:
                if not stat.S_ISREG(os.fstat(handle).st_mode):
                    return {}
                raw = os.read(handle, 1 << 20)
            finally:
                os.close(handle)
    except (OSError, ReadError) as exc:
        warn(f"{quantize.parent / STATE_DIR}: cannot read the in-progress marker ({exc})")
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def pending(quantize: Path) -> Interrupted | None:
    """The interrupted run on this file, if one left its marker. A run still going (it holds
    the file's lock) is not interrupted."""
    quantize = quantize.absolute()
    data = _read(quantize)
    if data is None or is_locked_elsewhere(quantize):
        return None
    history = History(quantize)

    def copy(key: str) -> Path | None:
        name = data.get(key)
        if not safe_name(name):
            return None
        return history.folder / str(name)

    pid = data.get("pid")
    return Interrupted(quantize, str(data.get("kind") or "engine"),
                       pid if isinstance(pid, int) else 0, str(data.get("started") or "?"),
                       copy("backup"), copy("entropy_backup"))


def refuse_if_interrupted(quantize: Path) -> None:
    found = pending(quantize)
    if found is not None:
        raise EditError(f"{found.describe()}; nothing changed until you choose: {found.advice()}",
                        quantize)


def recover(quantize: Path, keep: bool = False) -> str:
    """Act on the user's choice; return what was done, in words."""
    quantize = quantize.absolute()
    with locked(quantize):
        found = pending(quantize)
        if found is None:
            raise EditError("no interrupted run to recover from", quantize)
        history = History(quantize)
        if keep:
            history.record("recover-kept", {"kind": found.kind, "started": found.started})
            clear(quantize)
            return f"kept {quantize.name} as it is"
        if found.backup is None or history.path_of(_entry_for(found.backup)) is None:
            raise ReadError("the copy from before the run is missing; nothing to restore "
                            "(`--keep` keeps the file as it is)", quantize)
        atomic_write(quantize, _read_copy(found.backup), force=True)
        restored = [f"restored {quantize.name} from {found.backup}"]
        entropy = quantize.parent / ENGINE_WRITES
        if found.entropy_backup is not None and history.path_of(
                _entry_for(found.entropy_backup)) is not None:
            atomic_write(entropy, _read_copy(found.entropy_backup), force=True, lock=False)
            restored.append(f"and entropy.txt from {found.entropy_backup.name}")
        history.record("recovered", {"kind": found.kind, "started": found.started,
                                     "backup": found.backup.name})
        clear(quantize)
        return " ".join(restored)


def _entry_for(copy: Path) -> Entry:
    return Entry("", "", copy.name, {})


def _read_copy(path: Path) -> bytes:
    return read_bytes(path, "a history copy")
