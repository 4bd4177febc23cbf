"""The Ultralytics backend with the real package (the optional `[vision]` extra, which
CI installs): a YOLO11n built from its YAML with random weights exercises building,
prediction and ONNX export with nothing downloaded. Without the extra installed these
tests are skipped; the adapter itself is tested in test_vision_detectors.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ultralytics = pytest.importorskip("ultralytics")


@pytest.fixture
def yolo_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # exports are written beside the model
    return ultralytics.YOLO("yolo11n.yaml")


def test_it_predicts_with_a_model_built_offline(yolo_model: object) -> None:
    from vision.detectors.yolo import YoloDetector

    frame = np.random.default_rng(3).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    boxes = YoloDetector(model=yolo_model, imgsz=320, threshold=0.0).detect(frame)
    assert all(0 <= b.x1 <= b.x2 <= 320 and 0 <= b.y1 <= b.y2 <= 240 for b in boxes)


def test_it_loads_an_onnx_export_from_the_configured_path(
    yolo_model: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vision.detectors import select_backend

    onnx = Path(yolo_model.export(format="onnx", imgsz=320))  # type: ignore[attr-defined]
    monkeypatch.setenv("VISION_YOLO_MODEL", str(onnx))
    detector = select_backend("yolo")
    assert detector.name == "yolo"
    assert isinstance(detector.detect(np.zeros((240, 320, 3), np.uint8)), list)
    monkeypatch.delenv("VISION_BACKEND", raising=False)
    assert select_backend(None).name == "yolo"  # a configured model is preferred
