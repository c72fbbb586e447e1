#!/usr/bin/env python3
"""Writes small ONNX models that break the collapse contract in one way each,
for the fault tests (tests/data/). Deterministic; run from the repo root:

    python3 tools/make_test_models.py
"""
import onnx
from onnx import TensorProto, helper

OUT = "tests/data"
CONTROLS = "direction -1 1 0; dust_amount 0 2 1"
META = {
    "collapse.contract": "1",
    "collapse.kind": "generator",
    "collapse.halo": "0",
    "collapse.reach": "0.5 0.1 0.5 0.5",
    "collapse.context": "0.2 0.05 0.2 0.2",
    "collapse.controls": CONTROLS,
}


def io(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def contract_inputs(plate_type=TensorProto.FLOAT, controls=2):
    return [
        io("plate", plate_type, [1, 4, "hs", "ws"]),
        io("background", plate_type, [1, 4, "hs", "ws"]),
        io("mask", plate_type, [1, 1, "hs", "ws"]),
        io("out_x", TensorProto.FLOAT, ["wo"]),
        io("out_y", TensorProto.FLOAT, ["ho"]),
        io("scene", TensorProto.FLOAT, [16]),
        io("controls", TensorProto.FLOAT, [controls]),
    ]


def element_graph(inputs, out_type=TensorProto.FLOAT):
    """element = zeros [1, 4, len(out_y), len(out_x)]: a valid do-nothing generator."""
    nodes = [
        helper.make_node("Shape", ["out_y"], ["hy"]),
        helper.make_node("Shape", ["out_x"], ["wx"]),
        helper.make_node("Constant", [], ["head"], value=helper.make_tensor("head", TensorProto.INT64, [2], [1, 4])),
        helper.make_node("Concat", ["head", "hy", "wx"], ["shape"], axis=0),
        helper.make_node("ConstantOfShape", ["shape"], ["element"], value=helper.make_tensor("z", out_type, [1], [0])),
    ]
    return helper.make_graph(nodes, "g", inputs, [io("element", out_type, [1, 4, "ho", "wo"])])


def save(name, graph, meta):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="collapse-tests")
    model.ir_version = 8
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, f"{OUT}/{name}")


def main():
    # A contract-abiding model that does nothing: the control group.
    save("valid_noop.onnx", element_graph(contract_inputs()), META)
    # The wrong inputs: a plain image-to-image model.
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                          [io("x", TensorProto.FLOAT, [1, 3, "h", "w"])], [io("y", TensorProto.FLOAT, [1, 3, "h", "w"])])
    save("wrong_inputs.onnx", g, META)
    # The wrong dtype for the images.
    save("wrong_dtype.onnx", element_graph(contract_inputs(TensorProto.DOUBLE), TensorProto.DOUBLE), META)
    # No contract metadata.
    save("no_metadata.onnx", element_graph(contract_inputs()), {})
    # A control the plugin cannot feed.
    save("unknown_control.onnx", element_graph(contract_inputs()), dict(META, **{"collapse.controls": "warp_speed 0 9 1; dust_amount 0 2 1"}))
    # Controls vector of the wrong length for its declaration.
    save("wrong_controls_shape.onnx", element_graph(contract_inputs(controls=5)), META)
    hostile()


def hostile():
    """Models a studio might be handed: external data outside the model's folder,
    and an operator from a custom domain (which would need a custom-op library)."""
    import os
    os.makedirs(f"{OUT}/hostile", exist_ok=True)
    with open(f"{OUT}/outside.bin", "wb") as f:
        f.write(bytes(8))
    inputs = contract_inputs()
    graph = element_graph(inputs)
    w = helper.make_tensor("w", TensorProto.FLOAT, [2], [0.0, 0.0])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../outside.bin"), ("offset", "0"), ("length", "8")):
        e = w.external_data.add()
        e.key, e.value = k, v
    w.ClearField("float_data")
    graph.initializer.append(w)
    graph.node.append(helper.make_node("Add", ["out_x", "w"], ["unused"]))
    graph.output.append(io("unused", TensorProto.FLOAT, [2]))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="collapse-tests")
    model.ir_version = 8
    for k, v in META.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, f"{OUT}/hostile/escape_external_data.onnx")
    graph = element_graph(contract_inputs())
    graph.node.append(helper.make_node("Evil", ["out_x"], ["evil"], domain="com.example.custom"))
    graph.output.append(io("evil", TensorProto.FLOAT, ["wo"]))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.example.custom", 1)])
    model.ir_version = 8
    for k, v in META.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, f"{OUT}/hostile/custom_op.onnx")
    save("hostile/greedy.onnx", greedy_graph(), META)
    save("hostile/endless.onnx", endless_graph(), META)


def greedy_graph():
    """A contract-abiding model that asks for a [1024, 1024, len(out_x)] float
    tensor at run time (4 GiB for a 1024-pixel-wide tile), then throws it away.
    The shape depends on an input, so no optimiser can fold it at load."""
    graph = element_graph(contract_inputs())
    graph.node.extend([
        helper.make_node("Constant", [], ["big"], value=helper.make_tensor("big", TensorProto.INT64, [2], [1024, 1024])),
        helper.make_node("Shape", ["out_x"], ["wx2"]),
        helper.make_node("Concat", ["big", "wx2"], ["huge_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["huge_shape"], ["huge"], value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1])),
        helper.make_node("ReduceSum", ["huge"], ["total"], keepdims=0),
    ])
    graph.output.append(io("total", TensorProto.FLOAT, []))
    return graph


def endless_graph():
    """A contract-abiding model whose run never ends in practice: a Loop of 10^15
    iterations over a small tensor that feeds an output (so it cannot be pruned)."""
    graph = element_graph(contract_inputs())
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Sin", ["v_in"], ["s"]),
            helper.make_node("Add", ["s", "v_in"], ["v_out"]),
        ],
        "spin",
        [io("i", TensorProto.INT64, []), io("cond_in", TensorProto.BOOL, []), io("v_in", TensorProto.FLOAT, ["n"])],
        [io("cond_out", TensorProto.BOOL, []), io("v_out", TensorProto.FLOAT, ["n"])],
    )
    graph.node.extend([
        helper.make_node("Constant", [], ["trips"], value=helper.make_tensor("trips", TensorProto.INT64, [], [10**15])),
        helper.make_node("Constant", [], ["go"], value=helper.make_tensor("go", TensorProto.BOOL, [], [True])),
        helper.make_node("Loop", ["trips", "go", "out_x"], ["spun"], body=body),
    ])
    graph.output.append(io("spun", TensorProto.FLOAT, ["wo"]))
    return graph


if __name__ == "__main__":
    main()
