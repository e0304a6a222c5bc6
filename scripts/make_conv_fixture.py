"""Writes device/tests/fixtures/conv3x3.onnx: one input [1, 4, 13, 13] and two 3×3
convolutions of it (pad 1; stride 1 → `s1` [1, 16, 13, 13], stride 2 → `s2` [1, 16, 7, 7]).
The weights follow the formula the test `tract_convolution_matches_a_direct_one`
(device/src/engine/model.rs) recomputes, so the test needs no other reference. An odd side
makes tract's 12- and 8-wide panels straddle output rows, which is where its packing of
convolution inputs has to split a panel into runs.

    .venv-onnx/bin/python scripts/make_conv_fixture.py
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CIN, COUT, SIDE = 4, 16, 13


def weight(o, i, y, x):
    return ((o * 7 + i * 3 + y * 5 + x) % 13 - 6) / 13.0


def main():
    w = np.array([[[[weight(o, i, y, x) for x in range(3)] for y in range(3)]
                   for i in range(CIN)] for o in range(COUT)], dtype=np.float32)
    b = np.array([(o % 5 - 2) / 10.0 for o in range(COUT)], dtype=np.float32)
    nodes = [
        helper.make_node("Conv", ["image", "w", "b"], ["s1"], pads=[1, 1, 1, 1],
                         strides=[1, 1], kernel_shape=[3, 3]),
        helper.make_node("Conv", ["image", "w", "b"], ["s2"], pads=[1, 1, 1, 1],
                         strides=[2, 2], kernel_shape=[3, 3]),
    ]
    side2 = (SIDE - 1) // 2 + 1
    graph = helper.make_graph(
        nodes, "conv3x3",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, CIN, SIDE, SIDE])],
        [helper.make_tensor_value_info("s1", TensorProto.FLOAT, [1, COUT, SIDE, SIDE]),
         helper.make_tensor_value_info("s2", TensorProto.FLOAT, [1, COUT, side2, side2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, "device/tests/fixtures/conv3x3.onnx")


if __name__ == "__main__":
    main()
