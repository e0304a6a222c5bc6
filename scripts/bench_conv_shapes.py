"""Every convolution of an ONNX model on its own, timed in onnxruntime here and in tract
through the `profile_onnx` example: the model's own weights, attributes and input shape
(batch 1, from ONNX shape inference), one file per convolution, 1 thread. Prints a table
with each convolution's kind (depthwise, pointwise, full), its MFLOP and both times, then
the totals per kind. Run through scripts/bench-conv-shapes."""

import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper, shape_inference

from bench_vs_onnxruntime import time_ort  # same session settings as the whole-model bench


def dims(value_info):
    """The static shape of a value, batch set to 1."""
    shape = [d.dim_value if d.HasField("dim_value") else 1
             for d in value_info.type.tensor_type.shape.dim]
    return [1] + shape[1:]


def convolutions(model):
    """(node, input shape, output shape, weights, bias) for each Conv whose weights are
    initializers."""
    inferred = shape_inference.infer_shapes(model)
    shapes = {v.name: dims(v) for v in list(inferred.graph.value_info) +
              list(inferred.graph.input) + list(inferred.graph.output)}
    init = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Conv" or node.input[1] not in init:
            continue
        if node.input[0] not in shapes or node.output[0] not in shapes:
            continue
        bias = init.get(node.input[2]) if len(node.input) > 2 else None
        yield node, shapes[node.input[0]], shapes[node.output[0]], init[node.input[1]], bias


def one_conv_model(node, in_shape, out_shape, weights, bias):
    inputs = ["x", "w"] + (["b"] if bias is not None else [])
    conv = helper.make_node("Conv", inputs, ["y"])
    conv.attribute.extend(node.attribute)
    tensors = [numpy_helper.from_array(numpy_helper.to_array(weights), "w")]
    if bias is not None:
        tensors.append(numpy_helper.from_array(numpy_helper.to_array(bias), "b"))
    graph = helper.make_graph(
        [conv], "conv", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, out_shape)], tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def describe(node, in_shape, weights):
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    cout, cin_per_group, kh, kw = weights.dims
    group = attrs.get("group", 1)
    stride = attrs.get("strides", [1, 1])[0]
    if group > 1 and group == in_shape[1]:
        kind = "depthwise"
    elif kh == kw == 1:
        kind = "pointwise"
    else:
        kind = "full"
    return kind, f"{kh}x{kw}/{stride}", cout, cin_per_group


def time_tract(tool, path, shape, runs):
    out = subprocess.run([tool, str(path), ",".join(map(str, shape)), str(runs), "0"],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[1]) * 1e3  # "median X ms ..."


def main():
    tool, model_path, runs = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    keep = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    model = onnx.load(model_path)
    print(f"{model_path}; onnxruntime {ort.__version__}; batch 1, 1 thread, "
          f"median of {runs} runs; µs")
    print(f"{'convolution':<44} {'kind':<9} {'kernel':>6} {'in':>12} {'out ch':>6} "
          f"{'MFLOP':>6} {'tract':>7} {'ort':>7} {'tract/ort':>9}")
    totals = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for i, (node, in_shape, out_shape, weights, bias) in enumerate(convolutions(model)):
            kind, kernel, cout, cin_per_group = describe(node, in_shape, weights)
            path = folder / f"conv{i:02}.onnx"
            onnx.save(one_conv_model(node, in_shape, out_shape, weights, bias), path)
            kh, kw = weights.dims[2], weights.dims[3]
            mflop = 2 * cout * cin_per_group * kh * kw * out_shape[2] * out_shape[3] / 1e6
            tract_us = time_tract(tool, path, in_shape, runs)
            ort_us = time_ort(path, 1, in_shape, runs) * 1e3
            shape = "x".join(map(str, in_shape[1:]))
            print(f"{node.name[:44]:<44} {kind:<9} {kernel:>6} {shape:>12} {cout:>6} "
                  f"{mflop:>6.2f} {tract_us:>7.1f} {ort_us:>7.1f} {tract_us / ort_us:>9.2f}")
            for key in (kind, "all"):
                t = totals[key]
                t[0] += mflop
                t[1] += tract_us
                t[2] += ort_us
                t[3] += 1
    print(f"\n{'kind':<10} {'convs':>5} {'MFLOP':>7} {'tract µs':>9} {'ort µs':>8} {'tract/ort':>9} "
          f"{'tract GFLOP/s':>13} {'ort GFLOP/s':>11}")
    for kind in ("depthwise", "pointwise", "full", "all"):
        if kind in totals:
            mflop, tract_us, ort_us, n = totals[kind]
            print(f"{kind:<10} {n:>5} {mflop:>7.1f} {tract_us:>9.1f} {ort_us:>8.1f} "
                  f"{tract_us / ort_us:>9.2f} {mflop / tract_us * 1e3:>13.1f} "
                  f"{mflop / ort_us * 1e3:>11.1f}")


if __name__ == "__main__":
    main()
