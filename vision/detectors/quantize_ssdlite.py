"""Make the int8 variant of the SSDLite model (`models/ssdlite_pedestrian_int8.onnx`),
once, from the float one that `convert_ssdlite.py` made; commit it with its checksum.

Static quantization with onnxruntime's own tool (QDQ, 8-bit weights per channel,
unsigned 8-bit activations), calibrated on tiles cut from frames of a video the way
`ssdlite.py` cuts them, at the widths cameras send (768, 640, 320). The project
calibrates on vtest.avi (tests/vision_support.py fetches it) with frames 13, 40, 67, ...,
which are not among the hand-counted frames the counting error is measured on (0, 27,
54, ...). On one core it runs about twice as fast as the float model, for the same
counting error at 640 and 768 pixels (docs/benchmarks.md).

    .venv/bin/python vision/detectors/quantize_ssdlite.py var/test-cache/vtest.avi

Needs the `onnx` package (in the [vision] extra).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from vision.detectors.ssdlite import FLOAT_MODEL, INT8_MODEL, SIZE, auto_grid, tiles

WIDTHS = (768, 640, 320)


def calibration_tensors(video: Path, frames: int = 30) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    index = taken = 0
    while taken < frames and capture.grab():
        if index % 27 == 13:
            frame = capture.retrieve()[1]
            taken += 1
            for width in WIDTHS:
                h, w = frame.shape[:2]
                small = cv2.resize(
                    frame, (width, round(h * width / w)), interpolation=cv2.INTER_AREA
                )
                rows, cols = small.shape[:2]
                for x0, y0, x1, y1 in tiles(cols, rows, auto_grid(cols, rows)):
                    tile = cv2.resize(small[y0:y1, x0:x1], (SIZE, SIZE))
                    rgb = cv2.cvtColor(tile, cv2.COLOR_BGR2RGB)
                    yield (rgb.astype(np.float32) * (2 / 255) - 1)[None]
        index += 1


def main() -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path, help="calibration footage (vtest.avi)")
    args = parser.parse_args()

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.tensors = calibration_tensors(args.video)

        def get_next(self) -> dict[str, np.ndarray] | None:
            tensor = next(self.tensors, None)
            return (
                None
                if tensor is None
                else {"FeatureExtractor/MobilenetV2/MobilenetV2/input:0": tensor}
            )

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(FLOAT_MODEL), str(prepared), skip_symbolic_shape=True)
        # reduce_range (7-bit) would avoid an overflow on x86 CPUs without VNNI, but
        # costs counting error (0.87 -> 1.07 at 768): ssdlite.py picks the float model
        # on those CPUs instead.
        quantize_static(
            str(prepared),
            str(INT8_MODEL),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    digest = hashlib.sha256(INT8_MODEL.read_bytes()).hexdigest()
    INT8_MODEL.with_name(INT8_MODEL.name + ".sha256").write_text(f"{digest}  {INT8_MODEL.name}\n")
    print(f"{INT8_MODEL} ({INT8_MODEL.stat().st_size} bytes) sha256 {digest}")


if __name__ == "__main__":
    main()
