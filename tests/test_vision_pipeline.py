"""The vision worker's pipeline on rendered scenes whose true counts are known."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from vision.detectors import Box
from vision.pipeline.aggregate import MinuteAggregator
from vision.pipeline.analyzer import FrameAnalyzer
from vision.pipeline.camera import CameraSpec, CameraWorker
from vision.pipeline.motion import MotionGate
from vision.pipeline.sender import Sender
from vision.pipeline.snapshot import snapshot_jpeg
from vision.pipeline.zones import DebouncedCount, ZoneSpec, zone_counts
from vision.synthetic import ColourDetector, Walker, frames, people_at, render

LEFT_HALF = ZoneSpec(id=1, name="left", polygon=((0, 0), (0.5, 0), (0.5, 1), (0, 1)))


def test_it_places_a_person_by_the_feet() -> None:
    # Body mostly in the right half, feet in the left half: the person is in "left".
    leaning = Box(40, 10, 60, 90)  # foot at x=50 of 200 -> 0.25
    body_left_feet_right = Box(80, 10, 140, 90)  # foot at x=110 -> 0.55
    counts = zone_counts([leaning, body_left_feet_right], [LEFT_HALF], 200, 100)
    assert counts == {1: 1}


def test_it_counts_people_in_zones_of_a_rendered_scene() -> None:
    walkers = [
        Walker((0.2, 0.9), (0.2, 0.9), 0, 10),  # stands in the left half
        Walker((0.3, 0.6), (0.9, 0.6), 0, 10),  # walks from left to right
    ]
    analyzer = FrameAnalyzer(ColourDetector(), [LEFT_HALF], enter_s=0, exit_s=0)
    for t, frame in frames(walkers, seconds=10, fps=2):
        obs = analyzer.analyze(frame, t)
        assert obs.people == people_at(walkers, t)
        second_left = walkers[1].feet_at(t)[0] < 0.5  # type: ignore[index]
        assert obs.zones[1] == 1 + second_left


def test_it_debounces_zone_entry_and_exit() -> None:
    count = DebouncedCount(enter_s=2, exit_s=5)
    assert count.update(0, 3) == 3
    assert count.update(1, 4) == 3  # one frame with an extra person: not yet
    assert count.update(2, 3) == 3  # a flicker never shows
    assert count.update(3, 4) == 3
    assert count.update(4, 4) == 3
    assert count.update(5, 4) == 4  # held 2 s: entered
    assert count.update(6, 2) == 4  # missed for a moment: exit grace
    assert count.update(9, 2) == 4
    assert count.update(10, 4) == 4
    assert count.update(11, 2) == 4
    assert count.update(16, 2) == 2  # gone for 5 s: left


class CountingDetector:
    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, frame: Any) -> list[Box]:
        self.calls += 1
        return ColourDetector().detect(frame)


def test_it_skips_unchanged_frames_but_redetects_still_scenes() -> None:
    still = [Walker((0.5, 0.8), (0.5, 0.8), 0, 100)]  # someone sitting still
    detector = CountingDetector()
    analyzer = FrameAnalyzer(detector, gate=MotionGate(redetect_s=10))
    for t, frame in frames(still, seconds=30, fps=1):
        assert analyzer.analyze(frame, t).people == 1  # never lost
    assert detector.calls == 3  # t = 0, 10, 20
    moving = [Walker((0.1, 0.8), (0.9, 0.8), 0, 30)]
    detector.calls = 0
    analyzer = FrameAnalyzer(detector, gate=MotionGate(redetect_s=10))
    for t, frame in frames(moving, seconds=30, fps=1):
        analyzer.analyze(frame, t)
    assert detector.calls == 30


def test_it_aggregates_minutes_time_weighted() -> None:
    agg = MinuteAggregator()
    start = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    for second, people in [(0, 2), (5, 4), (10, 4), (15, 4)]:  # 2 for 5 s, then 4
        agg.add(start + dt.timedelta(seconds=second), {1: people})
    agg.add_crossings(start, {1: (2, 1)})
    minutes, crossings = agg.drain(start + dt.timedelta(seconds=20))
    assert minutes == [
        {"zone": 1, "minute": start.isoformat(), "mean": 3.5, "peak": 4, "samples": 4}
    ]
    assert crossings == [{"zone": 1, "minute": start.isoformat(), "in": 2, "out": 1}]
    # In the next minute the finished one is sent a last time, then forgotten.
    minutes, crossings = agg.drain(start + dt.timedelta(seconds=70))
    assert [(m["minute"], m["samples"]) for m in minutes] == [(start.isoformat(), 4)]
    assert len(crossings) == 1
    assert agg.drain(start + dt.timedelta(seconds=80)) == ([], [])


class StallingSource:
    """Gives `frames` frames, then blocks in read() forever, as OpenCV can on RTSP."""

    opened = 0

    def __init__(self, frames: int) -> None:
        StallingSource.opened += 1
        self.left = frames
        self.hang = threading.Event()

    def read(self) -> tuple[bool, Any]:
        if self.left <= 0:
            self.hang.wait()  # never set: a hung driver call
        self.left -= 1
        time.sleep(0.02)
        return True, render([Walker((0.5, 0.8), (0.5, 0.8), 0, 1)], 0)

    def release(self) -> None:
        pass


def test_it_reports_a_stalled_camera_offline_and_reconnects() -> None:
    StallingSource.opened = 0
    batches: list[dict[str, Any]] = []
    spec = CameraSpec(
        id=3, source="rtsp://x", sample_fps=20, offline_after_s=0.5, zones=[LEFT_HALF]
    )
    worker = CameraWorker(
        spec,
        detector=ColourDetector(),
        open_source=lambda s: StallingSource(5),
        submit=batches.append,
        batch_every_s=0.2,
        backoff_s=0.1,
    )
    worker.thread.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(not b["health"]["online"] for b in batches):
        time.sleep(0.05)
    offline = [b for b in batches if not b["health"]["online"]]
    assert offline, "the watchdog never reported the stalled camera"
    assert offline[0]["health"]["backend"] == "synthetic-colour"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and StallingSource.opened < 2:
        time.sleep(0.05)
    assert StallingSource.opened >= 2  # reconnected
    offline_at = batches.index(offline[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        b["health"]["online"] for b in batches[offline_at:]
    ):
        time.sleep(0.05)
    assert any(b["health"]["online"] for b in batches[offline_at:])  # back online
    worker.stop()
    worker.thread.join(timeout=2)
    assert not worker.thread.is_alive()  # the hung read did not freeze the worker
    assert any(b["health"]["online"] and b["minutes"] for b in batches)


class App(BaseHTTPRequestHandler):
    up = False
    received: list[dict[str, Any]] = []
    snapshots: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.endswith("/snapshot") and App.up:
            assert self.headers["Content-Type"] == "image/jpeg"
            App.snapshots.append((self.path, body))
            self.send_response(204)
            self.end_headers()
            return
        if not App.up:
            self.send_response(503)
            self.end_headers()
            return
        assert self.headers["Authorization"] == "Bearer k3y"
        App.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"minutes": 1, "crossings": 0, "unchanged": 0}')

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path != "/api/v1/vision/cameras/3/config" or not App.up:
            self.send_response(403 if App.up else 503)
            self.end_headers()
            return
        body = json.dumps({"camera": 3, "source": "rtsp://cam/sub", "zones": []}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def app_server() -> Any:
    App.up, App.received, App.snapshots = False, [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_it_loses_no_minute_while_the_app_is_down(app_server: str, tmp_path: Path) -> None:
    sender = Sender(app_url=app_server, token="k3y", outbox=tmp_path / "outbox", backoff_s=0.01)
    batches = [
        {
            "camera": 3,
            "health": {"fps": 1.0},
            "minutes": [
                {
                    "zone": 1,
                    "minute": f"2026-03-02T09:{m:02d}:00+00:00",
                    "mean": 1.0,
                    "peak": 1,
                    "samples": 60,
                }
            ],
        }
        for m in range(5)
    ]
    for batch in batches[:3]:
        sender.enqueue(batch)
        assert sender.flush(now=time.monotonic() + 1000) == 0  # 503: kept on disk
    # A worker restart meanwhile: a new sender finds the buffered batches.
    sender = Sender(app_url=app_server, token="k3y", outbox=tmp_path / "outbox", backoff_s=0.01)
    assert len(sender.pending()) == 3
    for batch in batches[3:]:
        sender.enqueue(batch)
    App.up = True
    assert sender.flush(now=time.monotonic() + 1000) == 5
    assert App.received == batches  # all of them, in order
    assert sender.pending() == []


def test_it_backs_off_while_the_app_is_unreachable(tmp_path: Path) -> None:
    sender = Sender(
        app_url="http://127.0.0.1:9", token="k", outbox=tmp_path, backoff_s=10, timeout_s=1
    )
    sender.enqueue({"camera": 1})
    assert sender.flush(now=0) == 0
    assert sender._retry_at == 10
    assert sender.flush(now=5) == 0  # not retried before the backoff is over
    assert sender._retry_at == 10
    assert sender.flush(now=11) == 0
    assert sender._retry_at == 11 + 20  # doubled
    assert len(sender.pending()) == 1


def test_it_renders_figures_the_colour_detector_finds_exactly() -> None:
    walkers = [Walker((0.1 * i, 0.5), (0.1 * i, 0.5), 0, 1) for i in range(1, 9)]
    frame = render(walkers, 0.5)
    assert frame.dtype == np.uint8
    assert len(ColourDetector().detect(frame)) == 8


def test_it_runs_the_worker_command_end_to_end(
    app_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import call_command

    from vision import detectors
    from vision.synthetic import write_video

    monkeypatch.setitem(detectors.BACKENDS, "colour", ColourDetector)
    video = tmp_path / "hall.avi"
    write_video(str(video), [Walker((0.2, 0.9), (0.2, 0.9), 0, 60)], seconds=3, fps=5)
    config = tmp_path / "cameras.json"
    config.write_text(
        json.dumps(
            [
                {
                    "camera": 3,
                    "hall": "h1",
                    "name": "entrance",
                    "enabled": True,
                    "source": str(video),
                    "sample_fps": 5,
                    "offline_after_s": 20,
                    "zones": [
                        {
                            "id": 1,
                            "name": "left",
                            "kind": "waiting_area",
                            "capacity": 5,
                            "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]],
                            "line": None,
                        }
                    ],
                }
            ]
        )
    )
    monkeypatch.setenv("VISION_APP_URL", app_server)
    monkeypatch.setenv("VISION_TOKEN", "k3y")
    monkeypatch.setenv("VISION_OUTBOX", str(tmp_path / "outbox"))
    App.up = True
    call_command(
        "run_vision_worker",
        "--config",
        str(config),
        "--backend",
        "colour",
        "--batch-every",
        "0.5",
        "--run-for",
        "2",
    )
    assert App.received, "no batch reached the app"
    assert all(
        b["camera"] == 3 and b["health"]["backend"] == "synthetic-colour" for b in App.received
    )
    minutes = [m for b in App.received for m in b["minutes"]]
    assert minutes and all(m["zone"] == 1 and m["peak"] == 1 for m in minutes)
    path, jpeg = App.snapshots[0]
    assert path == "/api/v1/vision/cameras/3/snapshot"
    assert jpeg[:2] == b"\xff\xd8"  # a JPEG


def test_it_blurs_people_in_the_calibration_snapshot() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)  # all fine detail
    person = Box(100, 50, 140, 170)
    jpeg = snapshot_jpeg(frame, [person])
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    detail = lambda a: float(cv2.Laplacian(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())  # noqa: E731
    assert detail(image[60:160, 105:135]) < detail(frame[60:160, 105:135]) / 50
    assert detail(image[:, 250:]) > detail(frame[:, 250:]) / 10  # the rest stays usable
    assert len(snapshot_jpeg(frame, [person], max_bytes=20_000)) <= 20_000


def test_it_fetches_camera_configs_waiting_for_the_app(app_server: str) -> None:
    from django.core.management import CommandError

    from vision.management.commands.run_vision_worker import fetch_config

    with pytest.raises(CommandError, match="no config"):  # down: retried, then given up
        fetch_config(app_server, "k3y", 3, tries=2, backoff_s=0.01)
    App.up = True
    assert fetch_config(app_server, "k3y", 3)["source"] == "rtsp://cam/sub"
    with pytest.raises(CommandError, match="answered 403"):  # not retried
        fetch_config(app_server, "k3y", 4, backoff_s=100)


def test_it_takes_edited_zones_from_the_next_frame_on() -> None:
    spec = CameraSpec(id=3, source="x", zones=[LEFT_HALF])
    worker = CameraWorker(
        spec,
        detector=ColourDetector(),
        open_source=lambda s: StallingSource(0),
        submit=lambda b: None,
    )
    frame = render([Walker((0.7, 0.9), (0.7, 0.9), 0, 1)], 0)  # someone in the right half
    assert worker.analyzer.analyze(frame, 0).zones == {1: 0}
    right = ZoneSpec(id=1, name="left", polygon=((0.5, 0), (1, 0), (1, 1), (0.5, 1)))
    worker.update_zones([right])
    assert worker.analyzer.analyze(frame, 1).zones == {1: 1}
