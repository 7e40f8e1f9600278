"""Reading files with one-line errors, the lock no other quanted can cross, and the temp
files a save leaves beside the file (core/disk/saving.py writes them)."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from quanted.core.errors import EditError, FileChangedError, ReadError
from quanted.core.disk.stamp import SMALL_FILE, DiskStamp

LOCK_WAIT_S = 5.0  # a second writer waits this long for the first, then gives up loudly
_POLL_S = 0.05


class FileLockedError(EditError):
    """Another quanted process holds the file's lock (exit 1, nothing written)."""


class ReadOnlyError(EditError):
    """The file is read-only; writing it needs an explicit force."""


def kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: Path, kind: str = "a .quantize file") -> bytes:
    """Read a regular file, turning every OS failure into a one-line ReadError.

    Opened non-blocking and checked before reading: a FIFO or /dev/zero must not hang."""
    return read_stamped(path, kind)[0]


READ_TRIES = 3  # reads of a file that keeps changing under them, before giving up


def read_stamped(path: Path, kind: str = "a .quantize file") -> tuple[bytes, DiskStamp]:
    """read_bytes, and the stamp that names the bytes read: the file's stat just before the
    read, equal to the one just after it. A file whose stat moved during the read (another
    program writing it) is read again, READ_TRIES times at most, then refused: torn bytes are
    a version that never was on disk."""
    for _ in range(READ_TRIES):
        fd = _open_regular(path, kind)
        try:
            before = DiskStamp.of_stat(os.fstat(fd))
            data = _read_all(fd)
            if DiskStamp.of_stat(os.fstat(fd)) == before:
                return data, before
        except IsADirectoryError:
            raise ReadError(f"is a directory, not {kind}", path) from None
        except OSError as exc:
            raise ReadError(exc.strerror or str(exc), path) from None
        finally:
            os.close(fd)
    raise ReadError(f"changed while it was read, {READ_TRIES} times (another program is "
                    "writing it); nothing done: try again once it is written", path)


def _open_regular(path: Path, kind: str) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ReadError("no such file", path) from None
    except PermissionError:
        raise ReadError("permission denied", path) from None
    except IsADirectoryError:
        raise ReadError(f"is a directory, not {kind}", path) from None
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc), path) from None
    try:
        what = kind_of(os.fstat(fd).st_mode)
        if what is not None:
            raise ReadError(f"is {what}, not {kind}", path)
        os.set_blocking(fd, True)
    except OSError as exc:
        os.close(fd)
        raise ReadError(exc.strerror or str(exc), path) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb", closefd=False) as handle:
        return handle.read()


def still_as_read(path: Path, stamp: DiskStamp, data: Callable[[], bytes]) -> None:
    """FileChangedError unless the file at `path` is the version `stamp` names, `data()` its
    bytes: its stamp; a small file, its bytes (touched is not changed: pegasus may rewrite it
    identically; and a change within one tick of a coarse clock keeps the stamp). The last
    stat is the last system call: a save renames right after it."""
    try:
        if stamp.size > SMALL_FILE and DiskStamp.of(path) == stamp:
            return
        if stamp.size <= SMALL_FILE:
            now, now_stamp = read_stamped(path)
            if now == data() and DiskStamp.of(path) == now_stamp:
                return
    except (OSError, ReadError):
        pass
    raise FileChangedError(
        "changed on disk since it was read (a pegasus run?); reload, or overwrite", path)


def check_regular(path: Path, kind: str) -> None:
    """ReadError unless `path` is an existing regular file (following symlinks)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ReadError("no such file", path) from None
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc), path) from None
    what = kind_of(mode)
    if what is not None:
        raise ReadError(f"is {what}, not {kind}", path)


def real_target(path: Path) -> Path:
    """The file a save must write: through symlinks, so the link stays and its target changes."""
    return Path(os.path.realpath(path))


# -- the lock ------------------------------------------------------------------------------

def lock_path(target: Path) -> Path:
    real = real_target(target)
    return real.with_name(f".{real.name}.lock")


_held: dict[Path, tuple[int, int]] = {}  # lock file -> (fd, depth): nested takes are free
_held_guard = threading.Lock()


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "?"
    return text if text.isdigit() else "?"


@contextmanager
def locked(target: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the advisory lock of `target` (flock on `.NAME.lock` beside the real file).

    The kernel drops it when the process dies, so it is never stale. Taken twice by the same
    process it nests. Another process holding it for longer than `wait` is FileLockedError."""
    lock = lock_path(target)
    try:
        what = kind_of(os.stat(target).st_mode)
    except FileNotFoundError:
        what = None  # a new file: a save-as
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc), target) from None
    if what is not None:  # no lock files beside FIFOs, in /dev, ...
        raise ReadError(f"is {what}, not a .quantize file", target)
    with _held_guard:
        if lock in _held:
            fd, depth = _held[lock]
            _held[lock] = (fd, depth + 1)
            nested = True
        else:
            nested = False
    if not nested:
        fd = _take(lock, target, LOCK_WAIT_S if wait is None else wait)
        with _held_guard:
            _held[lock] = (fd, 1)
    try:
        yield
    finally:
        with _held_guard:
            fd, depth = _held[lock]
            if depth > 1:
                _held[lock] = (fd, depth - 1)
            else:
                del _held[lock]
                os.close(fd)  # closing the descriptor releases the flock


def _take(lock: Path, target: Path, wait: float) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise EditError(f"{lock.name} beside it is a symbolic link; refusing to use it",
                            target) from None
        raise EditError(f"cannot lock it ({lock.name}: {exc.strerror})", target) from None
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise FileLockedError(
                    f"is being changed by another quanted (pid {holder}); try again when it "
                    "is done", target) from None
            time.sleep(_POLL_S)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def is_locked_elsewhere(target: Path) -> bool:
    """True while another process holds the lock of `target` (never waits, never creates)."""
    lock = lock_path(target)
    with _held_guard:
        if lock in _held:
            return False
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


# -- temp files ------------------------------------------------------------------------------

def _temp_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{name}.") + r"[A-Za-z0-9_]{8}\.tmp")


def stale_temps(target: Path) -> list[Path]:
    """Temp files a killed save of `target` left beside it."""
    real = real_target(target)
    pattern = _temp_pattern(real.name)
    try:
        names = os.listdir(real.parent)
    except OSError:
        return []
    return [real.parent / n for n in names if pattern.fullmatch(n)]


_TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def mkstemp_beside(folder: Path, prefix: str) -> tuple[int, str]:
    """tempfile.mkstemp's contract (a new file, O_EXCL, mode 0600, 8 random name characters:
    what stale_temps looks for) without importing tempfile (and random, shutil) on every save."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = "".join(_TEMP_CHARS[byte % len(_TEMP_CHARS)] for byte in os.urandom(8))
        path = os.path.join(folder, f"{prefix}{name}.tmp")
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(folder))


def remove_stale_temps(target: Path) -> int:
    """Delete temp files of killed saves; only when no other quanted is saving right now."""
    found = stale_temps(target)
    if not found or is_locked_elsewhere(target):
        return 0
    removed = 0
    try:
        with locked(target, wait=0):
            for path in stale_temps(target):
                try:
                    if stat.S_ISREG(os.lstat(path).st_mode):
                        os.unlink(path)
                        removed += 1
                except OSError:
                    pass
    except EditError:
        return removed
    return removed


# -- what a save checks and leaves -------------------------------------------------------

def is_read_only(path: Path) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return not (st.st_mode & 0o222) or not os.access(path, os.W_OK)


def unlink_temp(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def glob_escape(name: str) -> str:
    """`name` as a glob pattern that matches only itself (`*`, `?`, `[` taken literally)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
