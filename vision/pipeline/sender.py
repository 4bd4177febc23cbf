"""Counts out: each batch is written to an on-disk outbox first, then posted to
`/api/v1/vision/counts`; a batch leaves the outbox only when the app has answered 200
(or 422: the batch itself is at fault and retrying cannot help, so it is logged and
set aside). While the app is down the outbox grows and is replayed in order later,
with backoff between tries; replays are harmless because the app keeps, per zone and
minute, the figures with the most samples.

The outbox is bounded (`max_bytes`, `max_files`): when full, the oldest batches are
dropped to make room, and the minutes they held are counted per camera as lost (kept
in `dropped.state` beside the batches, so a restart does not hide them), logged, and
reported in the camera's health (`dropped_minutes`), so that the operator reads "N
minutes lost" in the app rather than finding a full disk on the edge box."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
COUNTS_PATH = "/api/v1/vision/counts"
_seq = itertools.count()

# Defaults: a week of batches (one per camera every 10 s) for a box of 8 cameras; a
# batch of a few zones is well under 1 KiB, but takes a 4 KiB block on disk.
WEEK_S = 7 * 24 * 3600
DEFAULT_MAX_FILES = 8 * WEEK_S // 10
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
DROPPED_FILE = "dropped.state"  # JSON, but not a "*.json" batch


def outbox_max_files(*, cameras: int, batch_every_s: float, keep_s: float = WEEK_S) -> int:
    """Files enough for `keep_s` of batches of `cameras` cameras."""
    return max(1, round(cameras * keep_s / batch_every_s))


def _minutes_of(batch: Any) -> set[dt.datetime]:
    """The minutes a batch holds figures of (aware datetimes; unreadable ones skipped)."""
    if not isinstance(batch, dict):
        return set()
    found = set()
    for item in list(batch.get("minutes") or []) + list(batch.get("crossings") or []):
        try:
            minute = dt.datetime.fromisoformat(str(item["minute"]))
        except (KeyError, TypeError, ValueError):
            continue
        if minute.tzinfo is not None:
            found.add(minute)
    return found


class Sender:
    def __init__(
        self,
        *,
        app_url: str,
        token: str,
        outbox: Path,
        timeout_s: float = 10.0,
        backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_files: int = DEFAULT_MAX_FILES,
    ) -> None:
        self.url = app_url.rstrip("/") + COUNTS_PATH
        self.token = token
        self.outbox = Path(outbox)
        self.outbox.mkdir(parents=True, exist_ok=True)
        (self.outbox / "rejected").mkdir(exist_ok=True)
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._failures = 0
        self._retry_at = 0.0
        self.max_bytes = max_bytes
        self.max_files = max_files
        # Camera threads enqueue while the main thread flushes: the tally of what the
        # outbox holds (oldest first) and the drop counts change under this lock only.
        self._lock = threading.Lock()
        self._held: deque[tuple[str, int]] = deque(
            (p.name, p.stat().st_size) for p in self.pending()
        )
        self._bytes = sum(size for _name, size in self._held)
        self.dropped = self._load_dropped()

    def enqueue(self, batch: dict[str, Any]) -> Path:
        """Write the batch durably (write, fsync, rename) before any attempt to send;
        then drop the oldest batches while the outbox is over its bounds."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_seq):06d}.json"
        tmp = self.outbox / (name + ".tmp")
        body = json.dumps(batch)
        with open(tmp, "w") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        final = self.outbox / name
        with self._lock:  # in the tally from the moment flush() can see it
            tmp.replace(final)
            self._held.append((name, len(body.encode())))
            self._bytes += self._held[-1][1]
            self._enforce_bounds()
        return final

    def pending(self) -> list[Path]:
        return sorted(self.outbox.glob("*.json"))

    def dropped_minutes(self, camera: int) -> int:
        """Minutes of `camera`'s counts dropped from the full outbox, for its health."""
        with self._lock:
            return int(self.dropped.get(str(camera), {}).get("minutes", 0))

    def _enforce_bounds(self) -> None:
        lost: dict[str, int] = {}
        while self._held and (len(self._held) > self.max_files or self._bytes > self.max_bytes):
            name, size = self._held.popleft()
            path = self.outbox / name
            try:
                batch = json.loads(path.read_bytes())
                path.unlink()
            except FileNotFoundError:
                continue  # sent meanwhile: flush() took it off the tally
            except ValueError:
                batch = None
                path.unlink(missing_ok=True)
            self._bytes -= size
            camera = str(batch.get("camera", "?")) if isinstance(batch, dict) else "?"
            tally = self.dropped.setdefault(camera, {"batches": 0, "minutes": 0, "last": ""})
            tally["batches"] += 1
            # A running minute is sent again in later batches: each minute counts once,
            # when the first batch holding it is dropped (batches go oldest first).
            for minute in sorted(_minutes_of(batch)):
                if not tally["last"] or minute > dt.datetime.fromisoformat(tally["last"]):
                    tally["minutes"] += 1
                    tally["last"] = minute.isoformat()
                    lost[camera] = tally["minutes"]
        if lost:
            self._save_dropped()
            for camera, minutes in lost.items():
                log.warning(
                    "outbox full (%d files, %d bytes at most): dropped the oldest counts of"
                    " camera %s; %d minutes lost",
                    self.max_files,
                    self.max_bytes,
                    camera,
                    minutes,
                )

    def _load_dropped(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.outbox / DROPPED_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_dropped(self) -> None:
        tmp = self.outbox / (DROPPED_FILE + ".tmp")
        tmp.write_text(json.dumps(self.dropped))
        tmp.replace(self.outbox / DROPPED_FILE)

    def _forget(self, path: Path) -> None:
        """`path` left the outbox (sent or set aside): off the tally."""
        with self._lock:
            for index, (name, size) in enumerate(self._held):
                if name == path.name:
                    del self._held[index]
                    self._bytes -= size
                    return

    def flush(self, now: float | None = None) -> int:
        """Post the buffered batches oldest first; stop at the first failure and wait
        out the backoff before the next try. Returns how many were delivered."""
        now = time.monotonic() if now is None else now
        if now < self._retry_at:
            return 0
        sent = 0
        for path in self.pending():
            try:
                body = path.read_bytes()
            except FileNotFoundError:
                continue  # dropped meanwhile to make room
            status = self._post(body)
            if status == 200:
                path.unlink(missing_ok=True)
                self._forget(path)
                sent += 1
                continue
            if status == 422:
                log.error("app rejected counts batch %s; kept in rejected/", path.name)
                with contextlib.suppress(FileNotFoundError):  # dropped meanwhile
                    path.replace(self.outbox / "rejected" / path.name)
                self._forget(path)
                continue
            delay = min(self.max_backoff_s, self.backoff_s * 2**self._failures)
            self._failures += 1
            self._retry_at = now + delay
            log.warning("app unreachable (%s); %d batches buffered", status, len(self.pending()))
            return sent
        self._failures = 0
        return sent

    def post_snapshot(self, camera: int, jpeg: bytes) -> bool:
        """Best effort, never buffered: a calibration snapshot must not outlive its
        moment on disk, and the next one comes soon enough."""
        url = self.url.removesuffix(COUNTS_PATH) + f"/api/v1/vision/cameras/{camera}/snapshot"
        status = self._post(jpeg, url=url, content_type="image/jpeg")
        if status != 204:
            log.warning("snapshot for camera %s not taken: %s", camera, status)
        return status == 204

    def _post(
        self, body: bytes, *, url: str | None = None, content_type: str = "application/json"
    ) -> int | str:
        request = urllib.request.Request(
            url or self.url,
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (OSError, TimeoutError) as exc:
            return type(exc).__name__
