"""Real footage for the detector tests: vtest.avi (a pedestrian scene, 795 frames) from
Debian's opencv-doc package, fetched once with apt-get into a cache directory (not
committed), and the project's hand counts of 30 of its frames (tests/data/)."""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("VISION_TEST_CACHE", ROOT / "var" / "test-cache"))
LABELS = ROOT / "tests" / "data" / "vtest_counts.csv"
IN_DEB = "usr/share/doc/opencv-doc/examples/data/vtest.avi"


def vtest_path() -> Path:
    """vtest.avi in the cache, downloading the Debian package the first time."""
    target = CACHE / "vtest.avi"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", "opencv-doc"], cwd=tmp, check=True)
        deb = next(Path(tmp).glob("opencv-doc_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), f"{tmp}/x"], check=True)
        (Path(tmp) / "x" / IN_DEB).replace(target)
    return target


def labelled_frames() -> dict[int, tuple[int, np.ndarray]]:
    """frame index -> (hand count, frame) for the labelled frames of vtest.avi."""
    with open(LABELS) as handle:
        labels = {int(r["frame"]): int(r["people"]) for r in csv.DictReader(handle)}
    capture = cv2.VideoCapture(str(vtest_path()))
    out: dict[int, tuple[int, np.ndarray]] = {}
    index = 0
    while capture.grab():
        if index in labels:
            ok, frame = capture.retrieve()
            assert ok
            out[index] = (labels[index], frame)
        index += 1
    capture.release()
    return out
