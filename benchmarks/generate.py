"""Generate a large, realistic version-2 .quantize file (and its entropy.txt).

The defaults give about 60,000 tensors / 15 MB, the size docs/format.md section 2 describes.
Deterministic: the same arguments give the same bytes.

    python benchmarks/generate.py OUTDIR [--layers N]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

HEADER = "# !!!This file disallow TABs!!!\nversion: 2\nquantize_parameters:\n"


def _u8_entry(key: str, rng: random.Random) -> str:
    lo = -rng.uniform(0.01, 30.0)
    hi = rng.uniform(0.01, 30.0)
    scale = (hi - lo) / 255.0
    zero_point = int(round(-lo / scale))
    return (
        f"  '{key}':\n"
        "    qtype: u8\n"
        "    quantizer: asymmetric_affine\n"
        "    rounding: rtne\n"
        "    quant_range_mode: 0\n"
        f"    max_value: {hi!r}\n"
        f"    min_value: {lo!r}\n"
        f"    scale: {scale!r}\n"
        f"    zero_point: {zero_point}\n"
    )


def _bias_entry(key: str, rng: random.Random) -> str:
    scale = rng.uniform(1e-6, 1e-3)
    return (
        f"  '{key}':\n"
        "    qtype: i32\n"
        "    quantizer: asymmetric_affine\n"
        "    rounding: rtne\n"
        "    quant_range_mode: 0\n"
        f"    max_value: {scale * 2**31!r}\n"
        f"    min_value: {-scale * 2**31!r}\n"
        f"    scale: {scale!r}\n"
        "    zero_point: 0\n"
    )


def layer_names(count: int) -> list[str]:
    ops = ["Conv", "Relu", "Add", "MatMul", "Mul", "Softmax"]
    names = []
    for i in range(count):
        block, op = divmod(i, len(ops))
        names.append(f"/model/layers.{block // 8}/block.{block % 8}/{ops[op]}_output_0_{i + 1}")
    return names


def generate(outdir: Path, layers: int = 20_000, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    names = layer_names(layers)
    parts = [HEADER]
    entropy_act: list[tuple[float, str]] = []
    entropy_w: list[tuple[float, str]] = []
    for i, name in enumerate(names):
        parts.append(_u8_entry(f"@{name}:out0", rng))
        entropy_act.append((rng.random() * 0.9, f"@{name}:out0"))
        # Every layer carries weight and bias: 20,000 layers give 60,000 tensors.
        parts.append(_u8_entry(f"@{name}:weight", rng))
        parts.append(_bias_entry(f"@{name}:bias", rng))
        if i % 10:  # some activations have no weight entropy, as in real reports
            entropy_w.append((rng.random() * 0.9, f"@{name}:weight"))
    parts.append("customized_quantize_layers:\n")
    for name in names[:: max(1, layers // 12)][:12]:
        parts.append(f"  {name}: dynamic_fixed_point-i16\n")
    parts.append("stable_quantize_tensors: {}\n")
    outdir.mkdir(parents=True, exist_ok=True)
    quantize = outdir / "big_uint8.quantize"
    quantize.write_text("".join(parts), encoding="utf-8", newline="\n")
    lines = [f"{k}, {v!r}\n" for v, k in sorted(entropy_act)]
    lines += [f"{k}, {v!r}\n" for v, k in sorted(entropy_w)]
    entropy = outdir / "entropy.txt"
    entropy.write_text("".join(lines), encoding="utf-8", newline="\n")
    return quantize, entropy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--layers", type=int, default=20_000)
    args = parser.parse_args()
    quantize, entropy = generate(args.outdir, args.layers)
    print(quantize)
    print(entropy)


if __name__ == "__main__":
    main()
