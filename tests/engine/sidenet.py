"""`sidenet`, the second engine-made model (build_sidenet.py), imported by the real engine into
a folder: NAME.onnx, NAME.json, NAME.data, NAME_inputmeta.yml and its inputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def engine(pegasus: list[str], args: list[str], cwd: Path) -> str:
    proc = subprocess.run(pegasus + args, cwd=cwd, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc.stdout


def imported(pegasus: list[str], folder: Path) -> Path:
    """Build sidenet.onnx in `folder` and import it (two engine runs); returns `folder`."""
    python = Path(pegasus[0]).with_name("python")
    if not python.is_file():
        pytest.skip("needs the engine environment's python to build sidenet.onnx")
    subprocess.run([str(python), str(HERE / "build_sidenet.py"), str(folder)], check=True,
                   timeout=300)
    engine(pegasus, ["import", "onnx", "--model", "sidenet.onnx", "--output-model",
                     "sidenet.json", "--output-data", "sidenet.data"], folder)
    engine(pegasus, ["generate", "inputmeta", "--model", "sidenet.json",
                     "--input-meta-output", "sidenet_inputmeta.yml"], folder)
    assert "path: dataset.txt" in (folder / "sidenet_inputmeta.yml").read_text()
    return folder
