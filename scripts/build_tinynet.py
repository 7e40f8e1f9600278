"""Write tinynet.onnx and its sample inputs, deterministically.

Run with the engine environment's python (onnx 1.16.2, numpy 1.26.4):
    ENV/bin/python scripts/build_tinynet.py OUTDIR

tinynet is a small residual CNN classifier (1x3x32x32 -> 10 classes) whose node and
tensor names follow what `torch.onnx.export` writes for a torchvision-style model
(`/features/features.0/Conv`, `/layer1/layer1.0/conv1/Conv`, `/classifier/Gemm`, ...).
Weights come from a seeded numpy generator.

It is built to show what ACUITY's hybrid-quantization guide shows. The last convolution
(layer3.0 conv2) has one outlier output channel: weights 48 times larger than the others and
a bias of -60, so that channel is strongly negative and the ReLU after the residual Add
removes it again (the float result hardly depends on it). Per-tensor uint8 cannot cope: the
conv's weight table and its output and the Add's output get a range about 40 times wider
than the useful channels need, so those channels keep only a few levels. The classifier
reads standardized features, so that loss flips the predicted class. With
`dynamic_fixed_point-i16` on the few worst-entropy layers (that conv, the Add and the
pooling after it) the hybrid model matches float again.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20240607
N_INPUTS = 4


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def conv(self, scope, x, cin, cout, k=3, stride=1, gain=1.0, outlier=None):
        """Conv with BatchNorm folded in (as torch.onnx.export does in eval mode)."""
        fan_in = cin * k * k
        w = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(cout, cin, k, k)) * gain
        b = self.rng.normal(0.0, 0.05, size=(cout,))
        if outlier is not None:
            ch, factor, bias = outlier
            w[ch] *= factor
            b[ch] = bias
        wname = self.const(scope_param(scope, "weight"), w)
        bname = self.const(scope_param(scope, "bias"), b)
        out = "%s/Conv_output_0" % scope
        pad = k // 2
        self.nodes.append(helper.make_node(
            "Conv", [x, wname, bname], [out], name="%s/Conv" % scope,
            dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[pad, pad, pad, pad],
            strides=[stride, stride]))
        return out

    def op(self, op_type, name, inputs, **attrs):
        out = "%s_output_0" % name
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out


def scope_param(scope, kind):
    """torch's parameter name for a module scope: '/layer1/layer1.0/conv1' -> 'layer1.0.conv1.weight',
    '/layer2/layer2.0/downsample/downsample.0' -> 'layer2.0.downsample.0.weight'."""
    qualified, last = "", ""
    for seg in scope.strip("/").split("/"):
        if last and seg.startswith(last + "."):
            qualified += seg[len(last):]
        else:
            qualified = qualified + "." + seg if qualified else seg
        last = seg
    return "%s.%s" % (qualified, kind)


def basic_block(b, x, prefix, cin, cout, stride, outlier=None):
    """torchvision BasicBlock: conv1-relu-conv2 (+ downsample) + add, relu."""
    y = b.conv("%s/conv1" % prefix, x, cin, cout, stride=stride)
    y = b.op("Relu", "%s/relu/Relu" % prefix, [y])
    y = b.conv("%s/conv2" % prefix, y, cout, cout, gain=0.5, outlier=outlier)
    if stride != 1 or cin != cout:
        x = b.conv("%s/downsample/downsample.0" % prefix, x, cin, cout, k=1, stride=stride)
    y = b.op("Add", "%s/Add" % prefix, [y, x])
    return b.op("Relu", "%s/relu_1/Relu" % prefix, [y])


def build(seed=SEED):
    b = Builder(seed)
    x = "input"
    # features: conv-relu-conv-relu-maxpool (32x32 -> 16x16)
    x = b.conv("/features/features.0", x, 3, 16)
    x = b.op("Relu", "/features/features.1/Relu", [x])
    x = b.conv("/features/features.2", x, 16, 16)
    x = b.op("Relu", "/features/features.3/Relu", [x])
    x = b.op("MaxPool", "/features/features.4/MaxPool", [x],
             ceil_mode=0, kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2])
    x = basic_block(b, x, "/layer1/layer1.0", 16, 16, 1)
    x = basic_block(b, x, "/layer1/layer1.1", 16, 16, 1)
    x = basic_block(b, x, "/layer2/layer2.0", 16, 32, 2)
    x = basic_block(b, x, "/layer2/layer2.1", 32, 32, 1)
    # layer3.0 conv2: output channel 7 is an outlier (weights x48, bias -60): a weight table
    # and activations (conv output, Add) with a range far wider than the other channels need.
    # The channel is negative almost everywhere, so relu_1 removes it from the features.
    x = basic_block(b, x, "/layer3/layer3.0", 32, 64, 2, outlier=(7, 48.0, -60.0))
    x = b.op("GlobalAveragePool", "/avgpool/GlobalAveragePool", [x])
    x = b.op("Flatten", "/Flatten", [x], axis=1)
    w = b.rng.normal(0.0, 1.0, size=(10, 64))
    feats = pooled_features(b, x)
    # A random classifier on ReLU features sees mostly their common mean and picks the same
    # class for every image. Standardise the features first (a folded BatchNorm1d, as a
    # trained head would have), so different images get different classes; rounded to 4
    # decimals so tiny floating-point differences between machines do not change the file.
    # (Near-constant features get the median spread, not a huge weight.)
    mean, std = feats.mean(axis=0), feats.std(axis=0)
    std = np.maximum(std, np.median(std))
    w = w / std[None, :] * 0.35
    bias = -(w @ mean)
    w, bias = np.round(w, 4), np.round(bias, 4)
    # Order the sample inputs by their largest |logit|, widest first: a `--hybrid` run that
    # leaves out `--iterations` calibrates on input_0 alone, and then still sees the widest
    # logits (clipped logits would tie the top classes).
    logits = pooled_features(b, x, make_inputs()) @ w.T + bias
    order = [int(i) for i in np.argsort(-np.abs(logits).max(axis=1), kind="stable")]
    x = b.op("Gemm", "/classifier/Gemm",
             [x, b.const("classifier.weight", w), b.const("classifier.bias", bias)],
             alpha=1.0, beta=1.0, transB=1)
    b.nodes.append(helper.make_node("Softmax", [x], ["output"], name="/Softmax", axis=1))

    graph = helper.make_graph(
        b.nodes, "main_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        initializer=b.inits)
    model = helper.make_model(graph, producer_name="pytorch", producer_version="2.1.0",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, order


def pooled_features(b, feature_name, images=None):
    """The 64 pooled features of the trunk built so far, for images (default: 64 others)."""
    from onnx.reference import ReferenceEvaluator

    graph = helper.make_graph(
        b.nodes, "trunk",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info(feature_name, TensorProto.FLOAT, [1, 64])],
        initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    sess = ReferenceEvaluator(model)
    if images is None:
        images = make_inputs(SEED + 100, 64)
    return np.concatenate([sess.run(None, {"input": img})[0] for img in images]).astype(np.float64)


def make_inputs(seed=SEED, n=N_INPUTS):
    """Smooth random images (sum of a few sinusoids plus noise), float32 NCHW in about [-2, 2]."""
    rng = np.random.default_rng(seed + 1)
    yy, xx = np.meshgrid(np.linspace(0, 1, 32), np.linspace(0, 1, 32), indexing="ij")
    out = []
    for _ in range(n):
        img = np.zeros((3, 32, 32))
        for c in range(3):
            for _ in range(3):
                fx, fy, ph = rng.uniform(0.5, 4.0), rng.uniform(0.5, 4.0), rng.uniform(0, 2 * np.pi)
                img[c] += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
        img += rng.normal(0.0, 0.15, size=img.shape)
        out.append(img[None].astype(np.float32))
    return out


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    model, order = build()
    with open(os.path.join(outdir, "tinynet.onnx"), "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    names = []
    images = make_inputs()
    for i, arr in enumerate(images[j] for j in order):
        name = "input_%d.npy" % i
        np.save(os.path.join(outdir, name), arr)
        names.append(name)
    with open(os.path.join(outdir, "dataset.txt"), "w", newline="\n") as f:
        f.write("".join(n + "\n" for n in names))
    print("tinynet.onnx: %d nodes, %d initializers" % (len(model.graph.node), len(model.graph.initializer)))
    from onnx.reference import ReferenceEvaluator

    sess = ReferenceEvaluator(model)
    for name in names:
        prob = sess.run(None, {"input": np.load(os.path.join(outdir, name))})[0][0]
        top = np.argsort(-prob)[:3]
        print("%s: float top-3 %s" % (name, ", ".join("%d: %.4f" % (i, prob[i]) for i in top)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sample_data")
