"""Small .quantize documents in every layout quanted supports, built in code."""

from __future__ import annotations

import re

V2_HEADER = "# !!!This file disallow TABs!!!\nversion: 2\nquantize_parameters:\n"


def v2_tensor(key: str, qtype: str = "u8", indent: str = "  ") -> str:
    f = indent * 2
    quoted = key.replace("'", "''")
    return (
        f"{indent}'{quoted}':\n{f}qtype: {qtype}\n{f}quantizer: asymmetric_affine\n"
        f"{f}rounding: rtne\n{f}quant_range_mode: 0\n{f}max_value: 1.4739121198654175\n"
        f"{f}min_value: -0.7146259546279907\n"
        f"{f}scale: 4.811771941604093e-05\n{f}zero_point: 83\n"
    )


def v2_doc(
    layers=("c1_8", "c2_6", "logits_2", "features/features.9/conv/conv.2/Conv_output_0_8"),
    customized: str = "customized_quantize_layers: {}\n",
    header: str = V2_HEADER,
    stable: bool = True,
) -> str:
    body = "".join(v2_tensor(f"@{layer}:out0") + v2_tensor(f"@{layer}:weight") for layer in layers)
    return header + body + customized + ("stable_quantize_tensors: {}\n" if stable else "")


def legacy_doc(customized: str | None = None, rknn: bool = False) -> str:
    entry = (
        "    '@{0}:out0':\n        dtype: asymmetric_affine\n        method: layer\n"
        "        max_value: 0.9765625\n        min_value: -1.0\n        zero_point:\n"
        "        -   129\n        scale:\n        -   0.007751225493848324\n        qtype: u8\n"
    )
    params = "quantize_parameters:\n" + "".join(
        entry.format(name)
        for name in ("attach_input/out0_1", "MobilenetV1/Logits/AvgPool_1a/AvgPool_7")
    )
    custom = customized if customized is not None else (
        "customized_quantize_layers:\n"
        "    MobilenetV1/Logits/AvgPool_1a/AvgPool_7: dynamic_fixed_point-i16\n"
    )
    head = "%YAML 1.2\n---\n# !!!This file disallow TABs!!!\n"
    return head + (custom + params if rknn else params + custom)


def line_after_tensor(text: str, line: str, tensor: int) -> str:
    """`text` with `line` put in after its `tensor`-th tensor (0: the first) of a table at
    the usual two-space key indent."""
    keys = [m.start() for m in re.finditer(r"\n  '", text)]
    at = keys[tensor] + 1
    return text[:at] + line + text[at:]
