"""People detectors behind one interface (`Detector.detect(frame) -> list[Box]`).

Backends, in the order `select_backend(None)` tries them:
- `yolo`: Ultralytics YOLO from a local model file (`VISION_YOLO_MODEL`); only tried
  when that setting is given, since it needs the optional `[vision]` extra;
- `ssdlite-onnx`: the offline default, a pedestrian SSDLite shipped in `models/`;
- `hog`: OpenCV's built-in HOG people detector, the last fallback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from .base import Box, Detector, DetectorUnavailable, Frame, iou

__all__ = [
    "BACKENDS",
    "Box",
    "Detector",
    "DetectorUnavailable",
    "Frame",
    "iou",
    "select_backend",
]

log = logging.getLogger(__name__)
BACKEND_SETTING = "VISION_BACKEND"


def _yolo() -> Detector:
    from .yolo import YoloDetector

    return YoloDetector()


def _ssdlite() -> Detector:
    from .ssdlite import SsdliteDetector

    return SsdliteDetector()


def _hog() -> Detector:
    from .hog import HogDetector

    return HogDetector()


def _synthetic() -> Detector:
    from vision.synthetic import ColourDetector

    return ColourDetector()


# "synthetic-colour" finds the figures the hall simulator renders (its MJPEG cameras,
# queueing.simulation.live), never real people: only when named, never chosen by itself.
BACKENDS: dict[str, Callable[[], Detector]] = {
    "yolo": _yolo,
    "ssdlite-onnx": _ssdlite,
    "hog": _hog,
    "synthetic-colour": _synthetic,
}
ALIASES = {
    "ssdlite": "ssdlite-onnx",
    "ultralytics": "yolo",
    "default": "ssdlite-onnx",
    "synthetic": "synthetic-colour",
}


def select_backend(name: str | None = None) -> Detector:
    """The detector named (or `VISION_BACKEND`), or the best one that can run here.

    A named backend that cannot run is an error naming the missing file or package and
    the setting to fix; with no name, each backend is tried in turn and the one chosen
    is logged (its `name` is what the worker reports as health)."""
    name = name or os.environ.get(BACKEND_SETTING) or None
    if name:
        key = ALIASES.get(name, name)
        if key not in BACKENDS:
            raise DetectorUnavailable(
                f"unknown detector backend {name!r}: use one of {', '.join(BACKENDS)}"
            )
        detector = BACKENDS[key]()
        log.info("vision detector backend: %s", detector.name)
        return detector
    order = ["ssdlite-onnx", "hog"]
    if os.environ.get("VISION_YOLO_MODEL"):
        order.insert(0, "yolo")
    reasons = []
    for key in order:
        try:
            detector = BACKENDS[key]()
        except DetectorUnavailable as exc:
            log.warning("vision detector %s unavailable: %s", key, exc)
            reasons.append(f"{key}: {exc}")
            continue
        log.info("vision detector backend: %s", detector.name)
        return detector
    raise DetectorUnavailable("no detector backend can run: " + "; ".join(reasons))
