"""The engine-made sample model that ships with quanted (`sample_data/` in the repository)."""

from __future__ import annotations

import shutil
from pathlib import Path

from quanted.core.errors import ReadError

SAMPLE_QUANTIZE = "tinynet_uint8.quantize"
_PACKAGE = Path(__file__).resolve().parents[1]


def sample_dir() -> Path:
    """Where the sample lives: inside the installed package (quanted/sample_data, see
    pyproject.toml), or the checkout's sample_data/ in an editable install."""
    for candidate in (_PACKAGE / "sample_data", _PACKAGE.parent / "sample_data"):
        if (candidate / SAMPLE_QUANTIZE).is_file():
            return candidate
    raise ReadError(f"the bundled sample is missing from this install (looked in {_PACKAGE})",
                    "quanted")


def copy_sample(dest_dir: str | Path) -> Path:
    """Copy every sample file into dest_dir; return the copied .quantize path."""
    source = sample_dir()
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name not in {"__init__.py", "README.md"}:
            shutil.copy2(item, dest / item.name)
    return dest / SAMPLE_QUANTIZE
