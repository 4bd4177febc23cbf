"""Ultralytics YOLO backend (optional extra `pip install .[vision]`, AGPL-3.0).

It loads a model file from a configured local path only: a PyTorch `.pt`, an ONNX
export or an OpenVINO export folder. A bare name such as "yolov8n.pt" would make
Ultralytics download weights, so a path that does not exist is refused before
Ultralytics sees it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .base import Box, DetectorUnavailable, Frame

MODEL_SETTING = "VISION_YOLO_MODEL"
PERSON = 0  # COCO class id


class YoloDetector:
    name = "yolo"

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        threshold: float = 0.35,
        imgsz: int = 640,
        model: Any = None,
    ) -> None:
        self.threshold = threshold
        self.imgsz = imgsz
        if model is not None:  # an already built model (tests, benchmarks)
            self._model = model
            return
        configured = model_path or os.environ.get(MODEL_SETTING)
        if not configured:
            raise DetectorUnavailable(f"no YOLO model configured (set {MODEL_SETTING})")
        path = Path(configured)
        if not path.exists():
            raise DetectorUnavailable(
                f"YOLO model file {path} not found (set {MODEL_SETTING} to a local file)"
            )
        os.environ.setdefault("YOLO_OFFLINE", "1")
        try:
            from ultralytics import YOLO
        except ImportError as exc:
            raise DetectorUnavailable(
                "the yolo backend needs the optional extra: pip install '.[vision]'"
            ) from exc
        self._model = YOLO(str(path), task="detect")

    def detect(self, frame: Frame) -> list[Box]:
        results = self._model.predict(
            frame, imgsz=self.imgsz, conf=self.threshold, classes=[PERSON], verbose=False
        )
        boxes: list[Box] = []
        for result in results:
            xyxy = result.boxes.xyxy.cpu().numpy()
            conf = result.boxes.conf.cpu().numpy()
            for (x1, y1, x2, y2), score in zip(xyxy, conf, strict=True):
                boxes.append(Box(float(x1), float(y1), float(x2), float(y2), float(score)))
        return boxes
