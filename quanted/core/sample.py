"""The engine-made sample model that ships with quanted (`sample_data/` in the repository)."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

SAMPLE_QUANTIZE = "tinynet_uint8.quantize"


def sample_dir() -> Path:
    """Where the sample lives: inside the installed package, or the checkout's sample_data/."""
    try:
        packaged = Path(str(resources.files("quanted.sample_data")))
        if (packaged / SAMPLE_QUANTIZE).is_file():
            return packaged
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "sample_data"


def copy_sample(dest_dir: str | Path) -> Path:
    """Copy every sample file into dest_dir; return the copied .quantize path."""
    source = sample_dir()
    if not (source / SAMPLE_QUANTIZE).is_file():
        raise FileNotFoundError(f"the bundled sample is missing ({source / SAMPLE_QUANTIZE})")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name not in {"__init__.py", "README.md"}:
            shutil.copy2(item, dest / item.name)
    return dest / SAMPLE_QUANTIZE
