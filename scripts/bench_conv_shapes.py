"""One convolution per file, for each convolution shape of the shipped embedder (64 px input,
stem 16, stages 16/32/48), timed in onnxruntime here and in tract through the
`profile_onnx` example. Run through scripts/bench-conv-shapes."""

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from bench_vs_onnxruntime import time_ort  # same session settings as the whole-model bench

# (name, input channels, output channels, input side, kernel, stride)
SHAPES = [
    ("stem 3x3/2", 3, 16, 64, 3, 2),
    ("stage 1 3x3 (x2)", 16, 16, 32, 3, 1),
    ("stage 2 3x3/2", 16, 32, 32, 3, 2),
    ("stage 2 3x3", 32, 32, 16, 3, 1),
    ("stage 2 shortcut 1x1/2", 16, 32, 32, 1, 2),
    ("stage 3 3x3/2", 32, 48, 16, 3, 2),
    ("stage 3 3x3", 48, 48, 8, 3, 1),
    ("stage 3 shortcut 1x1/2", 32, 48, 16, 1, 2),
]


def output_side(side, kernel, stride):
    """Output side of a convolution padded by half its kernel."""
    return (side + 2 * (kernel // 2) - kernel) // stride + 1


def conv_model(cin, cout, side, kernel, stride):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((cout, cin, kernel, kernel)) * 0.1).astype(np.float32)
    b = (rng.standard_normal(cout) * 0.1).astype(np.float32)
    out = output_side(side, kernel, stride)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[kernel // 2] * 4,
                            strides=[stride] * 2, kernel_shape=[kernel] * 2)
    graph = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, side, side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, out, out])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def time_tract(tool, path, shape, runs):
    out = subprocess.run([tool, str(path), ",".join(map(str, shape)), str(runs), "0"],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[1]) * 1e3  # "median X ms ..."


def main():
    tool, runs = sys.argv[1], int(sys.argv[2])
    keep = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    print(f"onnxruntime {ort.__version__}; batch 1, 1 thread, median of {runs} runs; µs")
    print(f"{'convolution':<24} {'in':>10} {'out ch':>6} {'MFLOP':>6} {'tract':>7} {'ort':>7} {'tract/ort':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name, cin, cout, side, kernel, stride in SHAPES:
            path = folder / f"conv_{cin}_{cout}_{side}_k{kernel}s{stride}.onnx"
            onnx.save(conv_model(cin, cout, side, kernel, stride), path)
            shape = [1, cin, side, side]
            out_side = output_side(side, kernel, stride)
            mflop = 2 * cout * cin * kernel * kernel * out_side * out_side / 1e6
            tract_us = time_tract(tool, path, shape, runs)
            ort_us = time_ort(path, 1, shape, runs) * 1e3
            print(f"{name:<24} {cin:>3}x{side}x{side:<3} {cout:>6} {mflop:>6.2f} {tract_us:>7.1f} "
                  f"{ort_us:>7.1f} {tract_us / ort_us:>9.2f}")


if __name__ == "__main__":
    main()
