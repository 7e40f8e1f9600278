"""Saving a file: a replacement that respects it (its link, owner, mode, read-only bit), written
to a temp file beside it, synced, renamed over it, under the lock of core/disk/files.py."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from quanted.core.errors import EditError, ReadError
from quanted.core.disk.files import (
    ReadOnlyError, is_read_only, kind_of, locked, mkstemp_beside, real_target, unlink_temp,
)
from quanted.core.disk.stamp import DiskStamp

Data = bytes | list[bytes | memoryview]


def atomic_write(target: Path, data: Data, *, force: bool = False, lock: bool = True,
                 expect: Callable[[], None] | None = None) -> DiskStamp:
    """Write `data` to a temp file beside the real file, fsync, rename over it, holding the
    file's lock (unless `lock` is False: files only an engine run writes, under the lock of
    its .quantize). The stamp of the file written (see replace_temp).

    Through a symlink the target is written and the link kept. Owner, group and mode are
    kept (or the save is refused when they cannot be). A file with other hard links is
    refused: a rename would split them. A read-only file is refused unless `force`.
    `expect`: called just before the rename; what it raises (the file changed since it was
    read) leaves the file as it is and no temp file beside it."""
    if lock:
        with locked(target):
            return replace_temp(write_temp(target, data, force), target, expect)
    return replace_temp(write_temp(target, data, force), target, expect)


def write_temp(target: Path, data: Data, force: bool) -> Temp:
    """Everything of a save but the rename: the new bytes in a temp file beside the real
    file, with its owner and mode, synced, still open."""
    temp = open_temp(target, force)
    fill_temp(temp, data, target)
    return temp


class Temp(NamedTuple):
    """A save's temp file, open (`fd`), beside the `real` file it will replace: the owner
    (None: already right) and mode it gets once written (a write would clear set-id bits)."""

    fd: int
    path: str
    real: Path
    owner: os.stat_result | None
    mode: int


def open_temp(target: Path, force: bool) -> Temp:
    """write_temp's checks and its empty temp file."""
    real = real_target(target)
    folder = real.parent
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ReadError(f"cannot save: {exc.strerror}", target) from None
    if st is not None:
        what = kind_of(st.st_mode)
        if what is not None:
            raise ReadError(f"cannot save: it is {what}", target)
        if st.st_nlink > 1:
            raise EditError(
                f"has {st.st_nlink} hard links; replacing it would split them (nothing "
                "written): save to a copy, or remove the other links", target)
        if not force and is_read_only(real):
            raise ReadOnlyError(
                f"is read-only (mode {stat.S_IMODE(st.st_mode):04o}); nothing written "
                "(--force writes it and keeps the mode)", target)
        mode = stat.S_IMODE(st.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = mkstemp_beside(folder, f".{real.name}.")
    except OSError as exc:
        raise ReadError(f"cannot write here: {exc.strerror}", folder) from None
    try:
        owner = st if st is not None and (st.st_uid, st.st_gid) != _owner_of(fd) else None
    except BaseException:
        os.close(fd)
        unlink_temp(tmp)
        raise
    return Temp(fd, tmp, real, owner, mode)


def fill_temp(temp: Temp, data: Data, target: Path) -> None:
    """The bytes into open_temp's file, synced, left open for replace_temp (closed and removed
    on any error)."""
    try:
        _write_all(temp.fd, [data] if isinstance(data, bytes) else data)
        if temp.owner is not None:
            _keep_owner(temp.fd, temp.owner, target)
        os.fchmod(temp.fd, temp.mode)
        os.fsync(temp.fd)
    except BaseException as exc:
        discard_temp(temp)
        if isinstance(exc, OSError):
            raise ReadError(f"cannot save: {exc.strerror or exc}", target) from None
        raise


def discard_temp(temp: Temp) -> None:
    """A temp file that will not replace anything: closed and removed."""
    try:
        os.close(temp.fd)
    except OSError:
        pass
    unlink_temp(temp.path)


def _write_all(fd: int, chunks: list[bytes | memoryview]) -> None:
    """os.writev until every byte is written (it may write less than asked)."""
    views = [memoryview(chunk) for chunk in chunks if len(chunk)]
    while views:
        done = os.writev(fd, views)
        while views and done >= len(views[0]):
            done -= len(views.pop(0))
        if views:
            views[0] = views[0][done:]


def replace_temp(temp: Temp, target: Path,
                 expect: Callable[[], None] | None = None) -> DiskStamp:
    """The last step of a save: write_temp's file renamed over the real file, right after
    `expect()` (the check that the file is still as read; the rename follows it within
    microseconds). The stamp of the file written, from its own descriptor: its stat after
    the rename (which moves its ctime), or the one before when anything but the ctime moved
    in between (someone wrote it: the next check sees a change)."""
    try:
        written = os.fstat(temp.fd)
        if expect is not None:
            expect()
        os.replace(temp.path, temp.real)
        placed = os.fstat(temp.fd)
    except BaseException as exc:
        discard_temp(temp)
        if isinstance(exc, OSError):
            raise ReadError(f"cannot save: {exc.strerror or exc}", target) from None
        raise
    os.close(temp.fd)
    _fsync_dir(temp.real.parent)
    stamp = DiskStamp.of_stat(placed)
    if stamp[:4] != DiskStamp.of_stat(written)[:4]:
        return DiskStamp.of_stat(written)
    return stamp


def _owner_of(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_uid, st.st_gid


def _keep_owner(fd: int, st: os.stat_result, target: Path) -> None:
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except PermissionError:
        raise EditError(
            f"is owned by uid {st.st_uid} gid {st.st_gid}; saving would make it yours and "
            "quanted cannot keep its owner (nothing written): edit it as its owner", target
        ) from None


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
