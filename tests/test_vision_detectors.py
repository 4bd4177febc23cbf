"""People detectors: backend choice, clear errors, and counting error on real footage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.vision_support import labelled_frames
from vision.detectors import DetectorUnavailable, select_backend, ssdlite
from vision.detectors.ssdlite import FLOAT_MODEL, INT8_MODEL, SsdliteDetector, auto_grid, tiles


@pytest.fixture(scope="module")
def vtest() -> dict[int, tuple[int, np.ndarray]]:
    return labelled_frames()


def mae(detector: object, frames: dict[int, tuple[int, np.ndarray]]) -> float:
    errors = [abs(len(detector.detect(frame)) - truth) for truth, frame in frames.values()]  # type: ignore[attr-defined]
    return sum(errors) / len(errors)


def test_it_uses_the_offline_ssdlite_model_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISION_BACKEND", raising=False)
    monkeypatch.delenv("VISION_YOLO_MODEL", raising=False)
    assert select_backend(None).name == "ssdlite-onnx"
    assert select_backend("hog").name == "hog"
    # the simulator's rendered figures have a backend of their own, only when named
    assert select_backend("synthetic").name == "synthetic-colour"


def test_it_falls_back_to_hog_when_the_model_file_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VISION_BACKEND", raising=False)
    monkeypatch.delenv("VISION_YOLO_MODEL", raising=False)
    monkeypatch.setenv("VISION_SSDLITE_MODEL", str(tmp_path / "gone.onnx"))
    assert select_backend(None).name == "hog"


def test_it_names_the_path_and_setting_of_a_missing_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VISION_SSDLITE_MODEL", str(tmp_path / "gone.onnx"))
    with pytest.raises(DetectorUnavailable, match=r"gone\.onnx.*VISION_SSDLITE_MODEL"):
        select_backend("ssdlite-onnx")
    monkeypatch.setenv("VISION_YOLO_MODEL", str(tmp_path / "yolo11n.pt"))
    with pytest.raises(DetectorUnavailable, match=r"yolo11n\.pt.*VISION_YOLO_MODEL"):
        select_backend("yolo")
    monkeypatch.delenv("VISION_YOLO_MODEL")
    with pytest.raises(DetectorUnavailable, match="VISION_YOLO_MODEL"):
        select_backend("yolo")
    with pytest.raises(DetectorUnavailable, match="unknown detector backend 'nope'"):
        select_backend("nope")


def test_it_refuses_a_model_file_whose_checksum_differs(tmp_path: Path) -> None:
    copy = tmp_path / FLOAT_MODEL.name
    shutil.copy(FLOAT_MODEL, copy)
    (tmp_path / (FLOAT_MODEL.name + ".sha256")).write_text("0" * 64 + "  x\n")
    with pytest.raises(DetectorUnavailable, match="does not match"):
        SsdliteDetector(model_path=copy)


def test_it_tiles_large_frames_with_overlap() -> None:
    assert auto_grid(320, 240) == (1, 1)
    assert auto_grid(768, 576) == (2, 2)
    cut = tiles(768, 576, (2, 2))
    assert len(cut) == 4
    assert cut[0][0] == 0 and cut[-1][2] == 768 and cut[-1][3] == 576
    assert cut[1][0] < cut[0][2]  # neighbours overlap


def test_it_cuts_a_perspective_view_in_three_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    cut = ssdlite.perspective_tiles(640, 480)
    assert cut[:2] == tiles(640, 480, (2, 2))[:2]  # the far half: two tiles
    assert cut[2] == (0, 480 - cut[0][3], 640, 480)  # the near half: one, full width
    assert SsdliteDetector().perspective
    monkeypatch.setenv("VISION_SSDLITE_TILES", "grid")  # a camera looking straight down
    assert not SsdliteDetector().perspective


def test_it_finds_nobody_in_an_empty_frame() -> None:
    blank = np.full((480, 640, 3), 128, dtype=np.uint8)
    assert SsdliteDetector().detect(blank) == []


@pytest.mark.parametrize("model", [INT8_MODEL, FLOAT_MODEL], ids=["int8", "float"])
def test_it_counts_pedestrians_within_one_person_per_frame(vtest: dict, model: Path) -> None:
    # Measured on the 30 hand-counted frames (docs/benchmarks.md): 0.83 people per frame
    # with the float model, 0.87 with its int8 variant, on a CPU that runs it: an x86 CPU
    # without VNNI saturates its 8-bit sums (1.17 seen), which is why default_model()
    # never gives it the int8 model (the test below)
    if model == INT8_MODEL and ssdlite.default_model() != INT8_MODEL:
        pytest.skip("this x86 CPU lacks VNNI: it runs the float model, never the int8 one")
    assert mae(SsdliteDetector(model_path=model), vtest) < 1.0


def test_it_runs_the_int8_model_unless_an_x86_cpu_lacks_vnni(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ssdlite, "_has_vnni", lambda: True)
    assert ssdlite.default_model() == INT8_MODEL
    assert SsdliteDetector().model == INT8_MODEL.name
    monkeypatch.setattr(ssdlite.platform, "machine", lambda: "aarch64")
    monkeypatch.setattr(ssdlite, "_has_vnni", lambda: False)
    assert ssdlite.default_model() == INT8_MODEL
    monkeypatch.setattr(ssdlite.platform, "machine", lambda: "x86_64")
    assert ssdlite.default_model() == FLOAT_MODEL


def test_it_counts_less_well_but_still_finds_people_with_hog(vtest: dict) -> None:
    # HOG is the last fallback: measured 4.2, it misses most small, distant people.
    detector = select_backend("hog")
    assert mae(detector, vtest) < 4.6
    assert sum(len(detector.detect(frame)) for _, frame in vtest.values()) >= 30


def test_it_places_the_boxes_on_the_people(vtest: dict) -> None:
    truth, frame = vtest[0]  # three people on the open road, one half behind another
    # the full 2x2 grid finds all three; the default's three tiles see the near pair
    # squeezed into one wide tile and miss the one half hidden (its error is a miss,
    # and its counting error over all 30 frames is the same: see the test above)
    for detector, found in ((SsdliteDetector(perspective=False), truth), (SsdliteDetector(), 2)):
        boxes = detector.detect(frame)
        assert len(boxes) == found
        for box in boxes:
            assert 1.5 < (box.y2 - box.y1) / (box.x2 - box.x1) < 4.5  # upright, person-shaped
            assert box.y2 > 150  # feet on the road, not the buildings


class _Tensor:
    def __init__(self, data: list) -> None:
        self.data = np.asarray(data, dtype=np.float32)

    def cpu(self) -> _Tensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.data


class _Result:
    def __init__(self) -> None:
        self.boxes = type(
            "Boxes",
            (),
            {"xyxy": _Tensor([[10, 20, 30, 80], [50, 5, 70, 60]]), "conf": _Tensor([0.9, 0.4])},
        )()


class _Model:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def predict(self, frame: np.ndarray, **options: object) -> list[_Result]:
        self.calls.append(options)
        return [_Result()]


def test_it_asks_ultralytics_for_people_only_and_converts_its_boxes() -> None:
    from vision.detectors.yolo import YoloDetector

    model = _Model()
    boxes = YoloDetector(model=model, imgsz=480).detect(np.zeros((100, 100, 3), np.uint8))
    assert [(b.x1, b.y2, round(b.score, 2)) for b in boxes] == [(10, 80, 0.9), (50, 60, 0.4)]
    assert model.calls == [{"imgsz": 480, "conf": 0.35, "classes": [0], "verbose": False}]
