"""Run the counting pipeline offline on a video file and write per-frame counts:
`frame,t_s,people` plus one column per zone (for calibrating a camera's zones and for
measuring a detector's error against hand counts)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vision.detectors import DetectorUnavailable, select_backend
from vision.pipeline.analyzer import FrameAnalyzer
from vision.pipeline.capture import sample_video
from vision.pipeline.motion import MotionGate
from vision.pipeline.zones import ZoneSpec


def load_zones(path: Path) -> list[ZoneSpec]:
    """Zones from a JSON file: a list of zones, or a camera config with "zones" (the
    shape `GET /api/v1/vision/cameras/{id}/config` returns)."""
    try:
        data = json.loads(path.read_text())
        items = data["zones"] if isinstance(data, dict) else data
        return [ZoneSpec.from_json(item) for item in items]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"--zones {path}: {exc}") from exc


class Command(BaseCommand):
    help = "Count people in a video file with the vision pipeline; write a CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video")
        parser.add_argument("--out", required=True, help="CSV file to write")
        parser.add_argument("--sample-fps", type=float, default=None, help="default: all")
        parser.add_argument("--backend", default=None, help="yolo, ssdlite-onnx or hog")
        parser.add_argument("--zones", type=Path, default=None, help="zones JSON")
        parser.add_argument("--motion-gating", action="store_true", help="skip unchanged frames")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sample_fps"] is not None and options["sample_fps"] <= 0:
            raise CommandError("--sample-fps must be above 0")
        zones = load_zones(options["zones"]) if options["zones"] else []
        try:
            detector = select_backend(options["backend"])
        except DetectorUnavailable as exc:
            raise CommandError(str(exc)) from exc
        gate = MotionGate() if options["motion_gating"] else None
        analyzer = FrameAnalyzer(detector, zones, gate=gate)
        rows = 0
        try:
            with open(options["out"], "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["frame", "t_s", "people", *[z.name for z in zones]])
                for index, t, frame in sample_video(options["video"], options["sample_fps"]):
                    obs = analyzer.analyze(frame, t)
                    writer.writerow(
                        [index, f"{t:.3f}", obs.people, *[obs.zones[z.id] for z in zones]]
                    )
                    rows += 1
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{rows} frames counted with {detector.name} "
            f"({analyzer.detections} detections) -> {options['out']}"
        )
