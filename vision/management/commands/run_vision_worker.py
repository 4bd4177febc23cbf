"""The vision worker: one thread per camera, counts posted to the app.

Cameras come from a local JSON file (`--config`, a list of camera configs shaped like
`GET /api/v1/vision/cameras/{id}/config`) or from the app itself (`--camera ID ...`,
fetched with the camera token). Settings from the environment:
VISION_APP_URL (default http://127.0.0.1:8000), VISION_TOKEN (or VISION_TOKEN_FILE),
VISION_OUTBOX (default var/vision-outbox), VISION_OUTBOX_MAX_MB (default 1024) and
VISION_OUTBOX_MAX_DAYS (default 7: the files of that many days of batches of this
worker's cameras), VISION_BACKEND, VISION_YOLO_MODEL, VISION_SSDLITE_MODEL,
VISION_SSDLITE_TILES, VISION_TRACKER."""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vision.detectors import DetectorUnavailable, select_backend
from vision.pipeline.camera import CameraSpec, CameraWorker
from vision.pipeline.capture import open_capture
from vision.pipeline.sender import Sender, outbox_max_files
from vision.sources import SourceError, expand_source

log = logging.getLogger(__name__)
REFRESH_S = 300.0  # how often zones are fetched again from the app


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise CommandError(f"{name} must be a positive number, not {raw!r}")
    return value


def _token() -> str:
    if os.environ.get("VISION_TOKEN_FILE"):
        return Path(os.environ["VISION_TOKEN_FILE"]).read_text().strip()
    return os.environ.get("VISION_TOKEN", "")


def fetch_config(
    app_url: str, token: str, camera: int, *, tries: int = 6, backoff_s: float = 2.0
) -> dict[str, Any]:
    """The camera's config from the app, retried with backoff: a worker started with
    (or before) the app waits for it instead of dying. A 4xx is final (bad token or
    camera id): retrying cannot fix it."""
    request = urllib.request.Request(
        f"{app_url.rstrip('/')}/api/v1/vision/cameras/{camera}/config",
        headers={"Authorization": f"Bearer {token}"},
    )
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                data: dict[str, Any] = json.load(response)
                return data
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:
                raise CommandError(f"camera {camera}: the app answered {exc.code}") from exc
            reason = str(exc)
        except (OSError, ValueError) as exc:
            reason = str(exc)
        log.warning("camera %s config not fetched (%s), try %d", camera, reason, attempt + 1)
        if attempt + 1 < tries:
            time.sleep(backoff_s * 2**attempt)
    raise CommandError(f"camera {camera}: no config from {app_url} ({reason})")


class Command(BaseCommand):
    help = "Run the vision worker: read cameras, count people, post counts to the app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--config", type=Path, help="local JSON list of camera configs")
        parser.add_argument("--camera", type=int, action="append", default=[])
        parser.add_argument("--backend", default=None)
        parser.add_argument("--batch-every", type=float, default=10.0, help="seconds")
        parser.add_argument("--run-for", type=float, default=0.0, help="seconds; 0: forever")

    def handle(self, *args: Any, **options: Any) -> None:
        app_url = os.environ.get("VISION_APP_URL", "http://127.0.0.1:8000")
        token = _token()
        if options["config"]:
            try:
                configs = json.loads(options["config"].read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--config: {exc}") from exc
        elif options["camera"]:
            configs = [fetch_config(app_url, token, c) for c in options["camera"]]
        else:
            raise CommandError("give --config FILE or --camera ID")
        configs = configs if isinstance(configs, list) else [configs]
        sender = Sender(
            app_url=app_url,
            token=token,
            outbox=Path(os.environ.get("VISION_OUTBOX", "var/vision-outbox")),
            max_bytes=round(_env_number("VISION_OUTBOX_MAX_MB", 1024) * 1024 * 1024),
            max_files=outbox_max_files(
                cameras=len(configs),
                batch_every_s=options["batch_every"],
                keep_s=_env_number("VISION_OUTBOX_MAX_DAYS", 7) * 24 * 3600,
            ),
        )
        workers = []
        for data in configs:
            if not data.get("enabled", True):
                continue
            spec = CameraSpec.from_json(data)
            try:
                spec.source = expand_source(spec.source)
                # One detector per camera: onnxruntime sessions are not shared
                # between threads that each run at their own pace.
                detector = select_backend(options["backend"])
            except (SourceError, DetectorUnavailable) as exc:
                raise CommandError(f"camera {spec.id}: {exc}") from exc
            worker = CameraWorker(
                spec,
                detector=detector,
                open_source=open_capture,
                submit=sender.enqueue,
                snapshot=sender.post_snapshot,
                dropped_minutes=sender.dropped_minutes,
                batch_every_s=options["batch_every"],
            )
            self.stdout.write(
                f"camera {spec.id}: backend {detector.name}, tracker {worker.health()['tracker']}"
            )
            worker.thread.start()
            workers.append(worker)
        started = next_refresh = time.monotonic()
        try:
            while not options["run_for"] or time.monotonic() - started < options["run_for"]:
                sender.flush()
                if options["camera"] and time.monotonic() >= next_refresh + REFRESH_S:
                    next_refresh = time.monotonic()
                    self._refresh(app_url, token, workers)
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.thread.join(timeout=5)
        sender.flush(now=float("inf"))

    @staticmethod
    def _refresh(app_url: str, token: str, workers: list[CameraWorker]) -> None:
        """Pick up zones edited in the app; the app being away keeps the old ones."""
        for worker in workers:
            try:
                data = fetch_config(app_url, token, worker.spec.id, tries=1)
            except CommandError as exc:
                log.warning("zones of camera %s not refreshed: %s", worker.spec.id, exc)
                continue
            worker.update_zones(CameraSpec.from_json(data).zones)
