"""Reading and writing files: one-line errors in, atomic replacement out."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from quanted.core.errors import ReadError


def read_bytes(path: Path, kind: str = "a .quantize file") -> bytes:
    """Read a file, turning every OS failure into a one-line ReadError."""
    try:
        if path.is_dir():
            raise ReadError(f"is a directory, not {kind}", path)
        return path.read_bytes()
    except FileNotFoundError:
        raise ReadError("no such file", path) from None
    except PermissionError:
        raise ReadError("permission denied", path) from None
    except IsADirectoryError:
        raise ReadError(f"is a directory, not {kind}", path) from None
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc), path) from None


def atomic_write(target: Path, data: bytes | list[bytes | memoryview]) -> None:
    """Temp file in the same folder, fsync, keep the mode bits, rename over the target."""
    folder = target.parent
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ReadError(f"cannot write here: {exc.strerror}", folder) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in [data] if isinstance(data, bytes) else data:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise ReadError(f"cannot save: {exc.strerror or exc}", target) from None
        raise
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
