"""`.quanted/history/` beside a .quantize file: copies taken before engine runs, and records
of what each run and verification found, so the user can go back and compare attempts.

Everything in `.quanted/` is created and opened without following symbolic links: a link
planted there must not make a run append to, or copy into, some file elsewhere. Lines of the
index that cannot be read are skipped with a HistoryWarning, never an error."""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quanted.core.errors import HistoryWarning, ReadError
from quanted.core.state.inprogress import STATE_DIR

HISTORY_DIR = Path(STATE_DIR) / "history"
INDEX = "history.jsonl"
_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_DIR = os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW


def warn(message: str) -> None:
    warnings.warn(message, HistoryWarning, stacklevel=3)


# When a record (or an engine log) was made: local time, sortable as text.
STAMP = "%Y%m%d-%H%M%S-%f"


def new_stamp() -> str:
    return datetime.now().strftime(STAMP)


def stamp_time(stamp: str) -> datetime | None:
    """A stamp as a (naive, local) time; None when it is not one."""
    try:
        return datetime.strptime(stamp, STAMP)
    except ValueError:
        return None


def stamp_for_people(stamp: str) -> str:
    """2026-11-26 18:19:09; the stamp as it is when it is not one."""
    when = stamp_time(stamp)
    return stamp if when is None else when.strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Entry:
    time: str
    kind: str  # "before-hybrid", "verify", ...
    file: str | None  # the copy, relative to the history folder
    data: dict
    id: str = ""  # "1", "2", ... in recording order; the time stamp for entries made before ids


def _fail(what: Path, exc: OSError) -> ReadError:
    if exc.errno == errno.ELOOP:
        return ReadError("is a symbolic link; quanted does not follow links in .quanted/", what)
    if exc.errno == errno.ENOTDIR:
        return ReadError("is not a folder (quanted keeps its history there)", what)
    return ReadError(f"cannot use it: {exc.strerror or exc}", what)


@contextmanager
def open_dir(parent: Path, parts: tuple[str, ...], create: bool) -> Iterator[int | None]:
    """A descriptor of parent/parts..., each step opened with O_NOFOLLOW (made when `create`);
    None when it does not exist and `create` is False."""
    try:
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _fail(parent, exc) from None
    where = parent
    try:
        for part in parts:
            where = where / part
            if create:
                try:
                    os.mkdir(part, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise _fail(where, exc) from None
            try:
                child = os.open(part, _DIR, dir_fd=fd)
            except FileNotFoundError:
                if create:
                    raise ReadError("cannot use it: it vanished", where) from None
                os.close(fd)
                fd = -1
                yield None
                return
            except OSError as exc:
                why = OSError(errno.ELOOP, "a symbolic link") if _is_link(part, fd) else exc
                raise _fail(where, why) from None
            os.close(fd)
            fd = child
        yield fd
    finally:
        if fd >= 0:
            os.close(fd)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def safe_name(name: object) -> bool:
    """A plain file name inside the folder: no separators, no `..`, not hidden."""
    return (isinstance(name, str) and bool(name) and "/" not in name and "\0" not in name
            and not name.startswith("."))


class History:
    def __init__(self, quantize: Path) -> None:
        self.quantize = quantize
        self.folder = quantize.parent / HISTORY_DIR

    def _stamp(self) -> str:
        return new_stamp()

    def _dir(self, create: bool) -> AbstractContextManager[int | None]:
        return open_dir(self.quantize.parent, HISTORY_DIR.parts, create)

    def save_copy(self, kind: str, extra: dict | None = None, source: Path | None = None) -> Path:
        """Copy the file (mode and times too) into the history folder and record it."""
        stamp = self._stamp()
        source = source or self.quantize
        name = f"{self.quantize.name}.{stamp}.{kind}"
        with self._dir(create=True) as fd:
            assert fd is not None
            _copy_into(source, fd, name, self.folder / name)
            os.fsync(fd)
        target = self.folder / name
        self.record(kind, {"source": source.name, **(extra or {})}, copy=target, stamp=stamp)
        return target

    def record(self, kind: str, data: dict, copy: Path | None = None,
               stamp: str | None = None) -> Entry:
        entry = Entry(stamp or self._stamp(), kind, copy.name if copy else None, data,
                      self._next_id())
        line = json.dumps({"id": entry.id, "time": entry.time, "kind": kind, "file": entry.file,
                           "data": data})
        with self._dir(create=True) as fd:
            try:
                out = os.open(INDEX, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o666,
                              dir_fd=fd)
            except OSError as exc:
                raise _fail(self.folder / INDEX, exc) from None
            try:
                if not stat.S_ISREG(os.fstat(out).st_mode):
                    raise ReadError("is not a regular file", self.folder / INDEX)
                os.write(out, (line + "\n").encode("utf-8"))
            except OSError as exc:
                raise _fail(self.folder / INDEX, exc) from None
            finally:
                os.close(out)
        return entry

    def _index_text(self) -> str:
        try:
            with self._dir(create=False) as fd:
                if fd is None:
                    return ""
                try:
                    handle = os.open(INDEX, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    return ""
                try:
                    if not stat.S_ISREG(os.fstat(handle).st_mode):
                        warn(f"{self.folder / INDEX} is not a regular file; history ignored")
                        return ""
                    with os.fdopen(handle, "rb", closefd=False) as stream:
                        raw = stream.read()
                finally:
                    os.close(handle)
        except (OSError, ReadError) as exc:
            warn(f"{self.folder / INDEX}: history ignored ({exc})")
            return ""
        return raw.decode("utf-8", errors="replace")

    def entries(self, kind: str | None = None) -> list[Entry]:
        found = []
        bad = 0
        for line in self._index_text().splitlines():
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                entry = Entry(raw["time"], raw["kind"], raw.get("file"), raw.get("data") or {},
                              str(raw.get("id") or raw["time"]))
                if not (isinstance(entry.time, str) and isinstance(entry.kind, str)
                        and isinstance(entry.data, dict)):
                    raise TypeError("bad field types")
            except (ValueError, KeyError, TypeError):
                bad += 1  # a torn last line after a crash must not hide the rest
                continue
            if entry.file is not None and not safe_name(entry.file):
                warn(f"{self.folder / INDEX}: ignored an entry naming {entry.file!r}, "
                     "which is not a file in the history folder")
                continue
            if kind is None or entry.kind == kind:
                found.append(entry)
        if bad:
            warn(f"{self.folder / INDEX}: skipped {bad} line(s) that are not history records")
        return found

    def _next_id(self) -> str:
        """One more than the highest numeric id so far: short enough to type."""
        numbers = [int(e.id) for e in self.entries() if e.id.isdigit()]
        return str(max(numbers, default=0) + 1)

    def find(self, entry_id: str) -> Entry | None:
        for entry in self.entries():
            if entry.id == entry_id:
                return entry
        return None

    def path_of(self, entry: Entry) -> Path | None:
        """The copy an entry names, when it is a regular file inside the history folder."""
        if entry.file is None or not safe_name(entry.file):
            return None
        path = self.folder / entry.file
        try:
            with self._dir(create=False) as fd:
                if fd is None:
                    return None
                st = os.stat(entry.file, dir_fd=fd, follow_symlinks=False)
        except (OSError, ReadError):
            return None
        return path if stat.S_ISREG(st.st_mode) else None

    def first_copy(self, kind: str) -> Path | None:
        for entry in self.entries(kind):
            path = self.path_of(entry)
            if path is not None:
                return path
        return None


def _copy_into(source: Path, dir_fd: int, name: str, shown: Path) -> None:
    """Copy `source` into dir_fd/name, refusing to write through anything already there."""
    try:
        src = os.open(source, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ReadError(f"cannot copy it: {exc.strerror or exc}", source) from None
    try:
        st = os.fstat(src)
        try:
            dst = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600,
                          dir_fd=dir_fd)
        except OSError as exc:
            raise _fail(shown, exc) from None
        try:
            while chunk := os.read(src, 1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(dst, view):]
            os.fchmod(dst, stat.S_IMODE(st.st_mode))
            os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.fsync(dst)  # the copy a recovery after a power loss will need
        except OSError as exc:
            raise _fail(shown, exc) from None
        finally:
            os.close(dst)
    finally:
        os.close(src)
