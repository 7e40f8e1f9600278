"""A Python that runs a quanted checkout the way an installed quanted runs.

The development venv holds quanted as an editable install: setuptools' `.pth` imports a finder
at every interpreter start (pathlib, urllib.parse, importlib.util: 15-20 ms, a tenth of a cold
`add` at 15 MB), which `pip install .` / `pipx install .` do not have. Benchmarks run their
children with the interpreter made here instead: a bare venv of the same base Python whose one
`.pth` names the checkout and this interpreter's site-packages (the dependencies) as plain
paths, so `site` runs as usual but imports nothing of the editable install. Byte-compiled
first, as an installed package is.
"""

from __future__ import annotations

import compileall
import functools
import site
import subprocess
import sys
import tempfile
from pathlib import Path


def installed_python(checkout: Path, folder: Path) -> Path:
    """The interpreter of a venv in `folder` (made once) that imports `checkout`'s quanted."""
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    found = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                            "'purelib'))"], check=True, capture_output=True, text=True)
    paths = [str(checkout.resolve()), *site.getsitepackages()]
    (Path(found.stdout.strip()) / "quanted_checkout.pth").write_text("\n".join(paths) + "\n")
    compileall.compile_dir(checkout / "quanted", quiet=1)
    return python


@functools.cache
def empty_cwd() -> str:
    """An empty folder to run the children in. `python -c`/`-m` put the working directory
    first on sys.path, and the first import lists it: from /tmp with 2,500 entries that was
    1.3 ms of every `add`, which the `quanted` command (its sys.path[0] is the venv's bin)
    never pays. Empty, it also shadows no checkout."""
    return tempfile.mkdtemp(prefix="quanted-bench-cwd-")
