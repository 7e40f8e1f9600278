"""Write twoin.onnx, its inputs and dataset.txt: a model with two inputs, for verify and tune
on several inputs (tests/engine/test_two_inputs_engine.py).

Run with the engine environment's python (onnx, numpy): ENV/bin/python build_twoin.py OUTDIR

`image` (1x3x8x8) goes through a conv, a ReLU, a flatten and a fully connected layer to 10
class logits; `bias` (1x10) is added to them; a softmax gives `probs`. Each dataset line
names both inputs' files, in the order of the inputmeta's ports.
"""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper
from onnx_save import save

SEED = 77
N_INPUTS = 3


def main(outdir):
    rng = np.random.default_rng(SEED)
    inits = []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    nodes = [
        helper.make_node("Conv", ["image", const("conv.weight", rng.normal(0, 0.3, (8, 3, 3, 3))),
                                  const("conv.bias", rng.normal(0, 0.05, 8))],
                         ["/conv/Conv_output_0"], name="/conv/Conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1]),
        helper.make_node("Relu", ["/conv/Conv_output_0"], ["/Relu_output_0"], name="/Relu"),
        helper.make_node("Flatten", ["/Relu_output_0"], ["/Flatten_output_0"], name="/Flatten",
                         axis=1),
        helper.make_node("Gemm", ["/Flatten_output_0", const("fc.weight",
                                                             rng.normal(0, 0.05, (10, 512))),
                                  const("fc.bias", np.zeros(10))], ["/fc/Gemm_output_0"],
                         name="/fc/Gemm", transB=1),
        helper.make_node("Add", ["/fc/Gemm_output_0", "bias"], ["/Add_output_0"], name="/Add"),
        helper.make_node("Softmax", ["/Add_output_0"], ["probs"], name="/Softmax", axis=1),
    ]
    save(nodes, [("image", [1, 3, 8, 8]), ("bias", [1, 10])],
         [("probs", [1, 10])],
         inits, outdir, "twoin")
    lines = []
    for i in range(N_INPUTS):
        image, bias = f"image_{i}.npy", f"bias_{i}.npy"
        np.save(os.path.join(outdir, image),
                rng.normal(0.0, 1.0, size=(1, 3, 8, 8)).astype(np.float32))
        np.save(os.path.join(outdir, bias), rng.normal(0.0, 1.0, size=(1, 10)).astype(np.float32))
        lines.append(f"{image} {bias}\n")
    with open(os.path.join(outdir, "dataset.txt"), "w", newline="\n") as f:
        f.write("".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
