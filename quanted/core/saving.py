"""Saving a file: a replacement that respects it (its link, owner, mode, read-only bit), written
to a temp file beside it, synced, renamed over it, under the lock of core/files.py."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from quanted.core.errors import EditError, ReadError
from quanted.core.files import (
    ReadOnlyError, is_read_only, kind_of, locked, mkstemp_beside, real_target, unlink_temp,
)
from quanted.core.kernel_copy import Unchanged, copied


def atomic_write(target: Path, data: bytes | list[bytes | memoryview], *,
                 force: bool = False, lock: bool = True,
                 unchanged: Unchanged | None = None) -> None:
    """Write `data` to a temp file beside the real file, fsync, rename over it, holding the
    file's lock (unless `lock` is False: files only an engine run writes, under the lock of
    its .quantize).

    Through a symlink the target is written and the link kept. Owner, group and mode are
    kept (or the save is refused when they cannot be). A file with other hard links is
    refused: a rename would split them. A read-only file is refused unless `force`.
    `unchanged`: the bytes around a block copied from the file (core/kernel_copy.py)."""
    if lock:
        with locked(target):
            _write(target, data, force, unchanged)
    else:
        _write(target, data, force, unchanged)


def _write(target: Path, data: bytes | list[bytes | memoryview], force: bool,
           unchanged: Unchanged | None) -> None:
    tmp, real = write_temp(target, data, force, unchanged)
    replace_temp(tmp, real, target)


def write_temp(target: Path, data: bytes | list[bytes | memoryview], force: bool,
               unchanged: Unchanged | None = None) -> tuple[str, Path]:
    """Everything of a save but the rename: the new bytes in a temp file beside the real
    file, with its owner and mode, synced (`unchanged`: see kernel_copy). (temp, real file)."""
    temp = open_temp(target, force)
    fill_temp(temp, data, target, unchanged)
    return temp.path, temp.real


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


def fill_temp(temp: Temp, data: bytes | list[bytes | memoryview], target: Path,
              unchanged: Unchanged | None = None) -> None:
    """The bytes into open_temp's file, synced, closed (removed on any error). System calls
    only: run in a thread beside a scan, it needs the GIL for next to nothing."""
    try:
        chunks: list[bytes | memoryview] = [data] if isinstance(data, bytes) else data
        if unchanged is None or not copied(temp.fd, chunks, unchanged):
            _write_all(temp.fd, chunks)
        if temp.owner is not None:
            _keep_owner(temp.fd, temp.owner, target)
        os.fchmod(temp.fd, temp.mode)
        os.fsync(temp.fd)
    except BaseException as exc:
        unlink_temp(temp.path)
        if isinstance(exc, OSError):
            raise ReadError(f"cannot save: {exc.strerror or exc}", target) from None
        raise
    finally:
        os.close(temp.fd)


def _write_all(fd: int, chunks: list[bytes | memoryview]) -> None:
    """os.writev until every byte is written (it may write less than asked)."""
    views = [memoryview(chunk) for chunk in chunks if len(chunk)]
    while views:
        done = os.writev(fd, views)
        while views and done >= len(views[0]):
            done -= len(views.pop(0))
        if views:
            views[0] = views[0][done:]


def replace_temp(tmp: str, real: Path, target: Path) -> None:
    """The last step of a save: the temp file write_temp gave renamed over the real file."""
    try:
        os.replace(tmp, real)
    except BaseException as exc:
        unlink_temp(tmp)
        if isinstance(exc, OSError):
            raise ReadError(f"cannot save: {exc.strerror or exc}", target) from None
        raise
    _fsync_dir(real.parent)


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
