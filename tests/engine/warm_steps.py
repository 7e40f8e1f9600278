"""Engine commands on a model folder, run cold (a process each) or warm (through the one
`pegasus serve` of this process), and the bytes they wrote: the byte-identity test of the warm
engine and `python -m tests.engine.warm_steps` (the same comparison, cold twice and warm, with a
report of every file that differs) share them.

Files compared: every file the engine writes in the model folder and below it (the .quantize,
entropy.txt, the .data it rewrites, the hybrid run's .quantize.json, inference tensors, dumps,
the export), each byte for byte. Not compared: the engine's log (timestamps), and the
temp_model_json2yaml*.yaml files it leaves in the system temp folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from quanted.core.engine import warm
from quanted.core.engine.process import EngineProcess

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
HERE = Path(__file__).resolve().parent
# The engine's own list (the rebuild pre-fills 7 layers) and another one.
SECOND_LIST = ("layer3/layer3.0/conv2/Conv_output_0_7: dynamic_fixed_point-i16\n"
               "  classifier/Gemm_output_0_2: dynamic_fixed_point-i16\n")


def run(pegasus: list[str], args: list[str], cwd: Path, cold: bool,
        ) -> tuple[int, list[str], int | None]:
    """One engine command; (status, log, the pid of the server it ran in, None when cold)."""
    saved = os.environ.get(warm.MODE_VAR)
    if cold:
        os.environ[warm.MODE_VAR] = "cold"
    try:
        process = EngineProcess([*pegasus, *args], cwd)
        process.start()
        lines: list[str] = []
        status = process.follow(lines.append)
    finally:
        if saved is None:
            os.environ.pop(warm.MODE_VAR, None)
        else:
            os.environ[warm.MODE_VAR] = saved
    submitted = process._warm
    server = submitted.server.pid if submitted is not None and submitted.server else None
    if status != 0:
        raise AssertionError(f"{args[:2]} exited {status}:\n" + "\n".join(lines[-20:]))
    return status, lines, server


def model_args(name: str, iterations: int) -> list[str]:
    return ["--model", f"{name}.json", "--model-data", f"{name}.data", "--with-input-meta",
            f"{name}_inputmeta.yml", "--iterations", str(iterations)]


def rebuild(name: str, iterations: int) -> list[str]:
    return ["quantize", *model_args(name, iterations), "--rebuild", "--compute-entropy",
            "--model-quantize", f"{name}_uint8.quantize", "--quantizer", "asymmetric_affine",
            "--qtype", "uint8"]


def hybrid(name: str, iterations: int) -> list[str]:
    return ["quantize", *model_args(name, iterations), "--hybrid", "--model-quantize",
            f"{name}_uint8.quantize", "--quantizer", "asymmetric_affine", "--qtype", "uint8"]


def after_hybrid(name: str, iterations: int) -> list[list[str]]:
    """Inference (tensors), dump (npy) and export on the hybrid run's model."""
    quantized = ["--model", f"{name}_uint8.quantize.json", "--model-data", f"{name}.data",
                 "--with-input-meta", f"{name}_inputmeta.yml", "--model-quantize",
                 f"{name}_uint8.quantize", "--dtype", "quantized"]
    return [
        ["inference", *quantized, "--postprocess", "dump_results", "--iterations",
         str(iterations), "--output-dir", "inference"],
        ["dump", *quantized, "--output-dir", "dump", "--save-file-type", "npy"],
        ["export", "ovxlib", *quantized, "--output-path", f"export/{name}"],
    ]


def set_list(quantize: Path, body: str) -> None:
    """Replace the customized list's entries (the file as the engine wrote it)."""
    text = quantize.read_text()
    new = re.sub(r"(?m)^customized_quantize_layers:\n(?:  .*\n)*",
                 "customized_quantize_layers:\n  " + body, text, count=1)
    assert new != text or body in text
    quantize.write_text(new)


def copy_sample(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ["tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt",
                 *sorted(p.name for p in SAMPLE.glob("input_*.npy"))]:
        shutil.copyfile(SAMPLE / name, folder / name)
    return folder


def build_sidenet(pegasus: list[str], folder: Path, cold: bool) -> list[int | None]:
    """The second model (tests/engine/build_sidenet.py: depthwise conv, relu6, permute, Mul):
    its ONNX file and inputs, written by the engine environment's python, then imported and
    given its inputmeta by the engine. Whether each engine command ran warm, as sequence()."""
    python = Path(pegasus[0]).with_name("python")
    folder.mkdir(parents=True)
    subprocess.run([str(python), str(HERE / "build_sidenet.py"), str(folder)], check=True,
                   timeout=600, capture_output=True)
    return [run(pegasus, args, folder, cold)[2] for args in (
        ["import", "onnx", "--model", "sidenet.onnx", "--output-model", "sidenet.json",
         "--output-data", "sidenet.data"],
        ["generate", "inputmeta", "--model", "sidenet.json", "--input-meta-output",
         "sidenet_inputmeta.yml"])]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def differences(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    """Files only on one side or with other bytes, by name."""
    out = [f"only in one: {name}" for name in sorted(set(a) ^ set(b))]
    out += [f"differs: {name}" for name in sorted(set(a) & set(b)) if a[name] != b[name]]
    return out


def sequence(pegasus: list[str], root: Path, cold: bool, sidenet: Path,
             ) -> tuple[dict[str, dict[str, bytes]], list[int | None]]:
    """Two models and two lists in a row: sidenet's rebuild (its folder as build_sidenet left
    it), the sample's rebuild, its hybrid run with the engine's own list, a copy's hybrid run
    with another list, then inference, dump and export on the first. Returns each folder's
    files after its steps, and whether each command ran warm (its server's pid) or cold."""
    side = root / "sidenet"
    shutil.copytree(sidenet, side)
    first, second = copy_sample(root / "list1"), root / "list2"
    ran = [run(pegasus, rebuild("sidenet", 3), side, cold)[2]]
    ran.append(run(pegasus, rebuild("tinynet", 4), first, cold)[2])
    shutil.copytree(first, second)
    set_list(second / "tinynet_uint8.quantize", SECOND_LIST)
    ran.append(run(pegasus, hybrid("tinynet", 4), first, cold)[2])
    ran.append(run(pegasus, hybrid("tinynet", 4), second, cold)[2])
    for args in after_hybrid("tinynet", 4):
        ran.append(run(pegasus, args, first, cold)[2])
    return {name: snapshot(root / name) for name in ("sidenet", "list1", "list2")}, ran


def main() -> int:
    """Cold, cold again, warm: print what differs between each pair."""
    import tempfile
    import time

    pegasus = os.environ["QUANTED_PEGASUS"].split()
    with tempfile.TemporaryDirectory(prefix="warm-identity-") as tmp:
        root = Path(tmp)
        results = {}
        for label, cold in (("cold", True), ("cold again", True), ("warm", False)):
            start = time.monotonic()
            folder = root / label.replace(" ", "-")
            ran = build_sidenet(pegasus, folder / "sidenet-model", cold)
            model = snapshot(folder / "sidenet-model")
            results[label], more = sequence(pegasus, folder, cold, folder / "sidenet-model")
            results[label]["sidenet import"] = model
            print(f"{label}: {len(ran + more)} commands, servers: {ran + more}, "
                  f"{time.monotonic() - start:.1f} s", flush=True)
        for a, b in (("cold", "cold again"), ("cold", "warm")):
            for name in results[a]:
                diff = differences(results[a][name], results[b][name])
                print(f"{a} vs {b}, {name}: {len(results[a][name])} files, "
                      f"{len(diff)} differ {diff[:10]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
