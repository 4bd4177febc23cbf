"""Vision worker speed and counting error on real footage (vtest.avi, see
tests/vision_support.py), one thread per measurement, so the figures are per core.

For each available backend and frame width (320 / 480 / 640):
- detect fps: detector alone on the frames sampled at 1 fps from the video;
- pipeline fps: decode excluded, the analyser (zones, motion gate off / on) per frame;
  "on, still scene" repeats one frame, the best case for gating (one detection every
  `redetect_s`);
- MAE: mean absolute error of the count per frame on the 30 hand-counted frames.
Then how many 1-fps cameras one 2-core box sustains: per camera and second, decoding
every frame of a 10-fps stream plus one analysed frame, at 70 % of two cores.

    .venv/bin/python benchmarks/bench_vision.py [--frames 40] [--yolo-model PATH]
        [--widths 640 768] [--only yolo-pt,ssdlite-onnx]
    .venv/bin/python benchmarks/bench_vision.py --versus [--widths 640]

`ssdlite-onnx` is the default: the int8 model where the CPU has VNNI, and three tiles
(`perspective_tiles`) where a frame would be cut 2x2; `ssdlite-int8-grid` is the int8
model on the full 2x2 grid, `ssdlite-float-grid` the float model on it (the default
before). "x predict" is the pipeline's fps with gating off over
the detect fps of Ultralytics' own `predict` (the yolo-pt row) at the same width.
On a shared machine the load moves between rows: `--versus` times the two in turns
instead (Ultralytics' predict, then each SSDLite pipeline, three rounds per width) and
prints the ratio of each round.

The `yolo` rows need the `[vision]` extra; without a trained model file they use a
YOLO11n built from its YAML with random weights (`--yolo-yaml`), which measures speed
only (its MAE is meaningless and is not printed).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from tests.vision_support import labelled_frames, vtest_path  # noqa: E402
from vision.detectors import Detector, DetectorUnavailable  # noqa: E402
from vision.pipeline.analyzer import FrameAnalyzer  # noqa: E402
from vision.pipeline.motion import MotionGate  # noqa: E402
from vision.pipeline.zones import ZoneSpec  # noqa: E402

WIDTHS = (320, 480, 640)
YOLO_PT = "yolo-pt (random weights)"
SSDLITES = ("ssdlite-onnx", "ssdlite-int8-grid", "ssdlite-float-grid")
STREAM_FPS = 10.0
ZONES = [
    ZoneSpec(id=1, name="road", polygon=((0, 0.2), (1, 0.2), (1, 0.8), (0, 0.6))),
    ZoneSpec(id=2, name="grass", polygon=((0, 0.6), (1, 0.8), (1, 1), (0, 1))),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=40, help="frames timed per row")
    parser.add_argument("--yolo-model", default=os.environ.get("VISION_YOLO_MODEL"))
    parser.add_argument("--yolo-yaml", default="yolo11n.yaml")
    parser.add_argument("--no-yolo", action="store_true")
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    parser.add_argument("--only", default="", help="comma-separated labels (prefixes)")
    parser.add_argument("--versus", action="store_true", help="ratios to predict, in turns")
    return parser.parse_args()


def resize(frame: np.ndarray, width: int) -> np.ndarray:
    h, w = frame.shape[:2]
    return cv2.resize(frame, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def sampled_frames(count: int) -> list[np.ndarray]:
    """One frame a second of the 10-fps video."""
    capture = cv2.VideoCapture(str(vtest_path()))
    frames: list[np.ndarray] = []
    index = 0
    while capture.grab() and len(frames) < count:
        if index % 10 == 0:
            frames.append(capture.retrieve()[1])
        index += 1
    return frames


def decode_ms() -> float:
    capture = cv2.VideoCapture(str(vtest_path()))
    start, n = time.perf_counter(), 0
    while capture.read()[0]:
        n += 1
    return (time.perf_counter() - start) * 1000 / n


REPEATS = 3  # the median of three runs: the machine is shared


def timed(fn: Any, frames: list[np.ndarray]) -> float:
    fn(frames[0])  # warm-up
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for frame in frames:
            fn(frame)
        runs.append(len(frames) / (time.perf_counter() - start))
    return statistics.median(runs)


def pipeline_fps(detector: Detector, frames: list[np.ndarray], gate: bool) -> float:
    runs = []
    for _ in range(REPEATS):
        analyzer = FrameAnalyzer(detector, ZONES, gate=MotionGate() if gate else None)
        start = time.perf_counter()
        for i, frame in enumerate(frames):
            analyzer.analyze(frame, float(i))  # one frame a second
        runs.append(len(frames) / (time.perf_counter() - start))
    return statistics.median(runs)


def backends(args: argparse.Namespace) -> list[tuple[str, Any, bool]]:
    """(label, factory taking a width, whether its MAE means anything)."""
    from vision.detectors.hog import HogDetector
    from vision.detectors.ssdlite import FLOAT_MODEL, INT8_MODEL, SsdliteDetector

    out: list[tuple[str, Any, bool]] = [
        ("ssdlite-onnx", lambda w: SsdliteDetector(), True),
        (
            "ssdlite-int8-grid",
            lambda w: SsdliteDetector(model_path=INT8_MODEL, perspective=False),
            True,
        ),
        (
            "ssdlite-float-grid",
            lambda w: SsdliteDetector(model_path=FLOAT_MODEL, perspective=False),
            True,
        ),
        ("hog", lambda w: HogDetector(width=None), True),
    ]
    if args.no_yolo:
        return out
    try:
        from vision.detectors.yolo import YoloDetector

        if args.yolo_model:
            out.insert(
                0, ("yolo", lambda w: YoloDetector(model_path=args.yolo_model, imgsz=w), True)
            )
        else:
            os.environ["YOLO_OFFLINE"] = "1"
            from ultralytics import YOLO

            os.chdir(tempfile.mkdtemp(prefix="bench-yolo-"))  # the export lands in cwd

            model = YOLO(args.yolo_yaml)
            out.insert(0, (YOLO_PT, lambda w: YoloDetector(model=model, imgsz=w), False))
            onnx = Path(model.export(format="onnx", imgsz=640, dynamic=True))
            onnx_model = YOLO(str(onnx), task="detect")
            out.insert(
                1,
                (
                    "yolo-onnx (random weights)",
                    lambda w: YoloDetector(model=onnx_model, imgsz=w),
                    False,
                ),
            )
    except (ImportError, DetectorUnavailable) as exc:
        print(f"yolo skipped: {exc}", file=sys.stderr)
    return out


def versus(args: argparse.Namespace, frames: list[np.ndarray]) -> None:
    """Pipeline fps (gating off) over Ultralytics' predict fps, timed in turns."""
    rows = {label: factory for label, factory, _ in backends(args)}
    if YOLO_PT not in rows:
        sys.exit("--versus needs Ultralytics (the [vision] extra)")
    print("| width | round | predict fps | " + " | ".join(f"{k} fps, x" for k in SSDLITES) + " |")
    print("|---|---|---|" + "---|" * len(SSDLITES))
    for width in args.widths:
        small = [resize(f, width) for f in frames]
        yolo = rows[YOLO_PT](width)
        mine = {k: rows[k](width) for k in SSDLITES}
        for round_ in range(1, REPEATS + 1):
            predict = once(yolo.detect, small)
            cells = []
            for label in SSDLITES:
                analyzer = FrameAnalyzer(mine[label], ZONES)
                fps = once(lambda f, a=analyzer: a.analyze(f, time.monotonic()), small)
                cells.append(f"{fps:.1f}, {fps / predict:.1f}x")
            print(f"| {width} | {round_} | {predict:.1f} | " + " | ".join(cells) + " |", flush=True)


def once(fn: Any, frames: list[np.ndarray]) -> float:
    fn(frames[0])  # warm-up
    start = time.perf_counter()
    for frame in frames:
        fn(frame)
    return len(frames) / (time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    frames = sampled_frames(args.frames)
    if args.versus:
        versus(args, frames)
        return
    labelled = labelled_frames()
    still = [frames[0]] * len(frames)
    dec = decode_ms()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, OpenCV {cv2.__version__}"
    )
    print(f"decode vtest.avi 768x576: {dec:.2f} ms a frame")
    print()
    print(
        "| backend | width | detect fps | pipeline fps, gating off | on | on, still scene "
        "| MAE per frame | cameras at 1 fps on 2 cores | x predict |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    only = [o for o in args.only.split(",") if o]
    predict_fps: dict[int, float] = {}
    for label, factory, meaningful in backends(args):
        if only and not any(label.startswith(o) for o in only):
            continue
        for width in args.widths:
            detector = factory(width)
            small = [resize(f, width) for f in frames]
            detect = timed(detector.detect, small)
            off = pipeline_fps(detector, small, gate=False)
            on = pipeline_fps(detector, small, gate=True)
            still_on = pipeline_fps(detector, [resize(f, width) for f in still], gate=True)
            errors = [
                abs(len(detector.detect(resize(f, width))) - truth)
                for truth, f in labelled.values()
            ]
            mae = f"{statistics.mean(errors):.2f}" if meaningful else "-"
            # Per camera per second: decode a whole second of stream (every frame must
            # be decoded to follow an H.264 stream), analyse one frame.
            decode_scale = (width / 768) ** 2
            per_camera_ms = dec * decode_scale * STREAM_FPS + 1000 / off
            cameras = int(2 * 1000 * 0.7 / per_camera_ms)
            if label == YOLO_PT:
                predict_fps[width] = detect
            ratio = f"{off / predict_fps[width]:.1f}" if width in predict_fps else "-"
            print(
                f"| {label} | {width} | {detect:.1f} | {off:.1f} | {on:.1f} | {still_on:.1f} "
                f"| {mae} | {cameras} | {ratio} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
