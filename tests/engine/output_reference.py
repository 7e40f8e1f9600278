"""What the detector engine tests share: a model built by a script, imported and quantized the
way the seed does it, the engine's own output dumps read with numpy alone, and each per-output
figure computed again with numpy (the reference verify's and the analysis's figures must equal,
to 1e-6)."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

TOL = 1e-6


def engine(pegasus: list[str], args: list[str], cwd: Path) -> None:
    proc = subprocess.run(pegasus + args, cwd=cwd, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]


def import_and_quantize(pegasus: list[str], folder: Path, name: str, inputs: int) -> Path:
    """`NAME.onnx` in `folder` imported, its inputmeta generated and quantized uint8 with
    `--rebuild --compute-entropy` over `inputs` lines: the seed's first quantization."""
    engine(pegasus, ["import", "onnx", "--model", f"{name}.onnx", "--output-model",
                     f"{name}.json", "--output-data", f"{name}.data"], folder)
    engine(pegasus, ["generate", "inputmeta", "--model", f"{name}.json",
                     "--input-meta-output", f"{name}_inputmeta.yml"], folder)
    engine(pegasus, ["quantize", "--model", f"{name}.json", "--model-data", f"{name}.data",
                     "--with-input-meta", f"{name}_inputmeta.yml", "--rebuild",
                     "--compute-entropy", "--model-quantize", f"{name}_uint8.quantize",
                     "--quantizer", "asymmetric_affine", "--qtype", "uint8", "--iterations",
                     str(inputs)], folder)
    return folder / f"{name}_uint8.quantize"


def built_and_quantized(pegasus: list[str], folder: Path, script: Path, name: str,
                        inputs: int) -> Path:
    """`script FOLDER` run with the engine's python (it has onnx), then import_and_quantize."""
    python = Path(pegasus[0]).with_name("python")
    if not python.is_file():
        pytest.skip(f"needs the engine environment's python to build {name}.onnx")
    subprocess.run([str(python), str(script), str(folder)], check=True, timeout=300)
    return import_and_quantize(pegasus, folder, name, inputs)


def stem(tensor: str) -> str:
    """A tensor key as the engine writes it in its dump file names."""
    return re.sub(r"[^A-Za-z0-9_]", "_", tensor.lstrip("@"))


def tensor_dumps(folder: Path, tensor: str) -> list[np.ndarray]:
    """The engine's text dumps (`iter_I_..._.tensor`) of one output, by iteration."""
    found = {}
    for path in folder.glob(f"iter_*_{stem(tensor)}_*.tensor"):
        if not path.name.endswith(".qnt.tensor"):
            found[int(path.name.split("_")[1])] = np.loadtxt(path, dtype=np.float64, ndmin=1)
    return [found[i] for i in sorted(found)]


def npy_dumps(folder: Path, tensor: str) -> list[np.ndarray]:
    """The engine's `.npy` dumps of one output (an analysis run's folder), by iteration."""
    found = {}
    for path in folder.glob(f"iter_*_{stem(tensor)}_*.npy"):
        if not path.name.endswith(".qnt.npy"):
            found[int(path.name.split("_")[1])] = np.load(path).astype(np.float64).ravel()
    return [found[i] for i in sorted(found)]


def numpy_figures(f: list[np.ndarray], q: list[np.ndarray]) -> dict:
    """Every per-output figure of float `f` against quantized `q` (one array per input)."""
    cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(f, q)]
    fa, qa = np.concatenate(f), np.concatenate(q)
    unique = np.unique(qa)
    step = float(np.min(np.diff(unique)))
    low, high = np.percentile(fa, [25, 75])
    middle = (fa >= low) & (fa <= high)
    return {"min_cosine": min(cos), "mean_cosine": sum(cos) / len(cos),
            "sqnr_db": 10 * math.log10(float(np.sum(fa ** 2)) / float(np.sum((fa - qa) ** 2))),
            "max_abs_error": float(np.max(np.abs(fa - qa))),
            "distinct_float": np.unique(fa).size, "distinct_quantized": unique.size,
            "middle_float": np.unique(fa[middle]).size,
            "middle_quantized": np.unique(qa[middle]).size,
            "step": step, "spread": float(high - low), "levels": float(high - low) / step}


def flat(figures) -> dict:
    """An OutputFigures as the names numpy_figures gives, plus its kind, count and flag."""
    r = figures.resolution
    return {"kind": figures.kind, "count": figures.count, "min_cosine": figures.min_cosine,
            "mean_cosine": figures.mean_cosine, "sqnr_db": figures.sqnr_db,
            "max_abs_error": figures.max_abs_error, "distinct_float": r.distinct_float,
            "distinct_quantized": r.distinct_quantized, "middle_float": r.middle_float,
            "middle_quantized": r.middle_quantized, "step": r.step, "spread": r.spread,
            "levels": r.levels, "collapsed": r.collapsed}


def assert_same(got: dict, want: dict) -> None:
    """Every figure `want` names, equal in `got` (numbers to TOL)."""
    for name, value in want.items():
        if isinstance(value, (bool, str)):
            assert got[name] == value, name
        else:
            assert got[name] == pytest.approx(value, abs=TOL, rel=TOL), name
