"""Write sidenet.onnx, its inputs and dataset.txt: the second engine-made model for analysis tests.

Run with the engine environment's python (onnx, numpy): ENV/bin/python build_sidenet.py OUTDIR

Unlike tinynet (sample_data/) it has a depthwise convolution, a Clip(0, 6) (relu6) after it,
a residual Add, a Transpose (a permute), a Mul of two branches, and tensor names, as
`torch.onnx.export` writes them,
that become alike once `/` is replaced by `_`: `/head/conv/Conv_output_0` and
`/head_conv/Conv_output_0` give layer ids `head/conv/Conv_output_0_N` and
`head_conv/Conv_output_0_M`, whose dump file names differ only in the uid.
"""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper
from onnx_save import save

SEED = 4242
N_INPUTS = 3


def main(outdir):
    rng = np.random.default_rng(SEED)
    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def conv(scope, x, cin, cout, k=3, group=1):
        w = rng.normal(0.0, np.sqrt(2.0 / (cin // group * k * k)), size=(cout, cin // group, k, k))
        b = rng.normal(0.0, 0.1, size=(cout,))
        qual = scope.strip("/").replace("/", ".")
        out = scope + "/Conv_output_0"
        nodes.append(helper.make_node(
            "Conv", [x, const(qual + ".weight", w), const(qual + ".bias", b)], [out],
            name=scope + "/Conv", group=group, kernel_shape=[k, k], pads=[k // 2] * 4,
            strides=[1, 1], dilations=[1, 1]))
        return out

    def op(op_type, name, inputs, **attrs):
        out = name + "_output_0"
        nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out

    x = conv("/stem/stem.0", "input", 3, 8)
    stem = op("Relu", "/stem/stem.1/Relu", [x])
    y = conv("/blocks/blocks.0/dw", stem, 8, 8, group=8)  # depthwise
    y = op("Clip", "/blocks/blocks.0/act/Clip",
           [y, const("clip_min", np.array(0.0)), const("clip_max", np.array(6.0))])
    y = conv("/blocks/blocks.0/pw", y, 8, 8, k=1)
    y = op("Add", "/blocks/blocks.0/Add", [y, stem])  # residual
    # A product, not a sum: the importer would fold two 1x1 convs added together into one.
    a = conv("/head/conv", y, 8, 4, k=1)
    b = conv("/head_conv", y, 8, 4, k=1)
    y = op("Mul", "/head/Mul", [a, b])
    # H and W swapped: a real permute (a move to NHWC is folded into the engine's own layout).
    y = op("Transpose", "/head/Transpose", [y], perm=[0, 1, 3, 2])
    y = op("Flatten", "/head/Flatten", [y], axis=1)
    w = rng.normal(0.0, 0.05, size=(5, 16 * 16 * 4))
    y = op("Gemm", "/fc/Gemm", [y, const("fc.weight", w), const("fc.bias", np.zeros(5))],
           transB=1)
    nodes.append(helper.make_node("Softmax", [y], ["output"], name="/Softmax", axis=1))
    save(nodes, [("input", [1, 3, 16, 16])],
         [("output", [1, 5])],
         inits, outdir, "sidenet")
    names = []
    for i in range(N_INPUTS):
        name = f"input_{i}.npy"
        image = rng.normal(0.0, 1.0, size=(1, 3, 16, 16)).astype(np.float32)
        np.save(os.path.join(outdir, name), image)
        names.append(name)
    with open(os.path.join(outdir, "dataset.txt"), "w", newline="\n") as f:
        f.write("".join(n + "\n" for n in names))


if __name__ == "__main__":
    main(sys.argv[1])
