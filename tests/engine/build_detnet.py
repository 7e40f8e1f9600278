"""Write detnet.onnx, its inputs and dataset.txt: a two-output, detector-shaped model for the
per-output verify tests (tests/engine/test_detect_engine.py).

Run with the engine environment's python (onnx, numpy): ENV/bin/python build_detnet.py OUTDIR

A shared 3x3 conv + ReLU, then two heads on a 8x8 grid of 64 "anchors":
  - `boxes` (1x4x64): a 1x1 conv regression head, four box offsets per anchor;
  - `scores` (1x64): a fully connected layer over the flattened features giving one
    face/no-face logit per anchor, plus a fixed per-anchor offset that is -300 on two anchors
    (a padding anchor a real detector drives far below zero). Those two values stretch the
    calibrated range of the score head to about [-300, 7], so per-tensor uint8 leaves a step of
    about 1.2 logits: the logits that matter (in [-3, 3]) share a handful of codes, and after
    a sigmoid the confidences move in stairs.
The score head ends in a Gemm and an Add, not a conv and a reshape: the importer puts a permute
before a reshape at an output, and acuitylite 6.57.1 refuses to raise a permute next to a model
input or output (`There's a conflict to quantize tensor`), so a conv head could not be raised.
The logit scale is set from the float forward pass (numpy, below) so the useful logits have a
spread of about 2 on the seeded inputs.
"""
import os
import sys

import numpy as np
from onnx import helper, numpy_helper
from onnx_save import save

SEED = 2112
N_INPUTS = 4
SIZE = 8
OUTLIERS = (5, 40)  # anchors whose logit is pushed to about -300


def conv_np(x, w, b):
    """A stride-1, same-padded conv of a 1xCxHxW array (the float reference for the scale)."""
    k = w.shape[2]
    pad = k // 2
    xp = np.pad(x[0], ((0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((w.shape[0], x.shape[2], x.shape[3]))
    for i in range(k):
        for j in range(k):
            patch = xp[:, i:i + x.shape[2], j:j + x.shape[3]]
            out += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
    return (out + b[:, None, None])[None]


def main(outdir):
    rng = np.random.default_rng(SEED)
    images = [rng.normal(0.0, 1.0, size=(1, 3, SIZE, SIZE)).astype(np.float32)
              for _ in range(N_INPUTS)]
    w0 = rng.normal(0.0, np.sqrt(2.0 / 27), size=(8, 3, 3, 3))
    b0 = rng.normal(0.0, 0.05, size=(8,))
    wb = rng.normal(0.0, 0.5, size=(4, 8, 1, 1))
    bb = rng.normal(0.0, 0.1, size=(4,))
    ws = rng.normal(0.0, 1.0, size=(SIZE * SIZE, 8 * SIZE * SIZE))
    feats = [np.maximum(conv_np(x, w0, b0), 0.0) for x in images]
    raw = np.concatenate([f.reshape(1, -1) @ ws.T for f in feats]).ravel()
    ws *= 2.0 / raw.std()
    bs = np.full(SIZE * SIZE, -float(np.mean(raw)) * 2.0 / raw.std())
    offset = np.zeros((1, SIZE * SIZE))
    offset[0, list(OUTLIERS)] = -300.0

    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def shape(name, dims):
        inits.append(numpy_helper.from_array(np.array(dims, dtype=np.int64), name))
        return name

    def conv(scope, x, w, b):
        out = scope + "/Conv_output_0"
        k = w.shape[2]
        qual = scope.strip("/").replace("/", ".")
        nodes.append(helper.make_node(
            "Conv", [x, const(qual + ".weight", w), const(qual + ".bias", b)], [out],
            name=scope + "/Conv", kernel_shape=[k, k], pads=[k // 2] * 4, strides=[1, 1],
            dilations=[1, 1]))
        return out

    x = conv("/backbone/conv", "input", w0, b0)
    nodes.append(helper.make_node("Relu", [x], ["/backbone/Relu_output_0"],
                                  name="/backbone/Relu"))
    feat = "/backbone/Relu_output_0"
    box = conv("/box_head/conv", feat, wb, bb)
    nodes.append(helper.make_node("Reshape", [box, shape("box_shape", [1, 4, SIZE * SIZE])],
                                  ["boxes"], name="/box_head/Reshape"))
    nodes.append(helper.make_node("Flatten", [feat], ["/score_head/Flatten_output_0"],
                                  name="/score_head/Flatten", axis=1))
    nodes.append(helper.make_node(
        "Gemm", ["/score_head/Flatten_output_0", const("score_head.fc.weight", ws),
                 const("score_head.fc.bias", bs)], ["/score_head/fc/Gemm_output_0"],
        name="/score_head/fc/Gemm", transB=1))
    nodes.append(helper.make_node("Add", ["/score_head/fc/Gemm_output_0",
                                          const("anchor_offset", offset)],
                                  ["scores"], name="/score_head/Add"))
    save(nodes, [("input", [1, 3, SIZE, SIZE])],
         [("boxes", [1, 4, SIZE * SIZE]), ("scores", [1, SIZE * SIZE])],
         inits, outdir, "detnet")
    names = []
    for i, image in enumerate(images):
        name = f"input_{i}.npy"
        np.save(os.path.join(outdir, name), image)
        names.append(name)
    with open(os.path.join(outdir, "dataset.txt"), "w", newline="\n") as f:
        f.write("".join(n + "\n" for n in names))


if __name__ == "__main__":
    main(sys.argv[1])
