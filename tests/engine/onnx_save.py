"""The one way the engine tests' model builders write their ONNX file: opset 13, IR 8, the
producer a torch export names, checked, serialized deterministically (the builds are
byte-for-byte repeatable). Imported by the build_*.py scripts, which run with the engine
environment's python (onnx, numpy) and find this module beside them."""

import os

import onnx
from onnx import TensorProto, helper


def save(nodes, inputs, outputs, initializers, outdir, name):
    """`inputs`/`outputs`: (name, shape) pairs of float tensors; writes OUTDIR/NAME.onnx."""
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in outputs],
        initializer=initializers)
    model = helper.make_model(graph, producer_name="pytorch", producer_version="2.1.0",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, f"{name}.onnx"), "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
