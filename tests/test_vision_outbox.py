"""The worker's outbox while the app is away: bounded in files and bytes, the oldest
batches dropped first, the minutes they held counted per camera, logged, kept across a
restart and reported in the camera's health."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from vision.pipeline.camera import CameraSpec, CameraWorker
from vision.pipeline.sender import Sender, outbox_max_files
from vision.synthetic import ColourDetector

DOWN = "http://127.0.0.1:9"  # nothing listens: connection refused at once


class Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        Recorder.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def app_url() -> Iterator[str]:
    Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def batch(camera: int, minute: int, samples: int) -> dict[str, Any]:
    """A batch as the worker sends every 10 s: the running minute, figures so far."""
    return {
        "camera": camera,
        "health": {"fps": 1.0},
        "minutes": [
            {
                "zone": 1,
                "minute": f"2026-03-02T09:{minute:02d}:00+00:00",
                "mean": 1.0,
                "peak": 1,
                "samples": samples,
            }
        ],
    }


def down_sender(outbox: Path, **bounds: int) -> Sender:
    return Sender(app_url=DOWN, token="k", outbox=outbox, backoff_s=0.01, timeout_s=1, **bounds)


def test_it_drops_the_oldest_batches_and_counts_the_minutes_lost(
    tmp_path: Path, app_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = tmp_path / "outbox"
    sender = down_sender(outbox, max_files=6)
    # two batches per minute for camera 3 (minutes 0-5), one a minute for camera 4
    batches = [batch(3, m, s) for m in range(6) for s in (10, 20)]
    with caplog.at_level(logging.WARNING, logger="vision.pipeline.sender"):
        for b in batches:
            sender.enqueue(b)
            assert sender.flush(now=float("inf")) == 0  # the app is away
            assert len(sender.pending()) <= 6
    assert sender.dropped_minutes(3) == 3  # minutes 0, 1, 2: each counted once
    assert sender.dropped_minutes(4) == 0
    assert "camera 3; 3 minutes lost" in caplog.text

    sender.enqueue(batch(4, 7, 10))  # another camera's batch pushes out minute 3's first
    assert sender.dropped_minutes(3) == 4 and sender.dropped_minutes(4) == 0

    # a restart finds what was buffered and what was lost; then the app is back
    sender = Sender(app_url=app_url, token="k", outbox=outbox, max_files=6)
    assert sender.dropped_minutes(3) == 4
    assert sender.flush(now=float("inf")) == 6
    assert Recorder.received == batches[7:] + [batch(4, 7, 10)]  # the newest, in order
    assert sender.pending() == []


def test_it_bounds_the_outbox_in_bytes(tmp_path: Path) -> None:
    size = len(json.dumps(batch(3, 0, 10)))
    sender = down_sender(tmp_path, max_bytes=3 * size + 10)
    for m in range(5):
        sender.enqueue(batch(3, m, 10))
    kept = [json.loads(p.read_text())["minutes"][0]["minute"] for p in sender.pending()]
    assert kept == [f"2026-03-02T09:0{m}:00+00:00" for m in (2, 3, 4)]
    assert sender.dropped_minutes(3) == 2
    assert sum(p.stat().st_size for p in sender.pending()) <= 3 * size + 10


def test_it_keeps_sending_what_fits_after_deliveries(tmp_path: Path, app_url: str) -> None:
    """Delivered batches leave the tally: a bound is not reached by what was sent."""
    sender = Sender(app_url=app_url, token="k", outbox=tmp_path, max_files=2)
    for m in range(10):
        sender.enqueue(batch(3, m, 60))
        assert sender.flush(now=float("inf")) == 1
    assert sender.dropped_minutes(3) == 0
    assert len(Recorder.received) == 10


def test_it_reports_the_lost_minutes_in_the_cameras_health(tmp_path: Path) -> None:
    sender = down_sender(tmp_path, max_files=1)
    for m in range(4):
        sender.enqueue(batch(3, m, 60))
    worker = CameraWorker(
        CameraSpec(id=3, source="x"),
        detector=ColourDetector(),
        open_source=lambda s: None,  # type: ignore[arg-type,return-value]
        submit=sender.enqueue,
        dropped_minutes=sender.dropped_minutes,
    )
    assert worker.health()["dropped_minutes"] == 3
    worker._send()
    newest = json.loads(sender.pending()[-1].read_text())
    assert newest["health"]["dropped_minutes"] == 3
    assert sender.dropped_minutes(3) == 4  # minute 3 made room for it: in the next health


def test_it_sizes_the_default_bound_for_a_week_of_the_boxs_cameras() -> None:
    assert outbox_max_files(cameras=4, batch_every_s=10) == 4 * 7 * 24 * 360
    assert outbox_max_files(cameras=1, batch_every_s=60, keep_s=3600) == 60


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_it_refuses_a_bad_outbox_bound(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import CommandError, call_command

    config = tmp_path / "cameras.json"
    config.write_text(json.dumps([{"camera": 3, "source": "x.avi", "zones": []}]))
    monkeypatch.setenv("VISION_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("VISION_OUTBOX_MAX_MB", value)
    with pytest.raises(CommandError, match="VISION_OUTBOX_MAX_MB must be a positive number"):
        call_command("run_vision_worker", "--config", str(config), "--run-for", "0.1")
