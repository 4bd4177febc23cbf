"""Counts out: each batch is written to an on-disk outbox first, then posted to
`/api/v1/vision/counts`; a batch leaves the outbox only when the app has answered 200
(or 422: the batch itself is at fault and retrying cannot help, so it is logged and
set aside). While the app is down the outbox grows and is replayed in order later,
with backoff between tries; replays are harmless because the app keeps, per zone and
minute, the figures with the most samples."""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
COUNTS_PATH = "/api/v1/vision/counts"
_seq = itertools.count()


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

    def enqueue(self, batch: dict[str, Any]) -> Path:
        """Write the batch durably (write, fsync, rename) before any attempt to send."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_seq):06d}.json"
        tmp = self.outbox / (name + ".tmp")
        with open(tmp, "w") as handle:
            json.dump(batch, handle)
            handle.flush()
            os.fsync(handle.fileno())
        final = self.outbox / name
        tmp.replace(final)
        return final

    def pending(self) -> list[Path]:
        return sorted(self.outbox.glob("*.json"))

    def flush(self, now: float | None = None) -> int:
        """Post the buffered batches oldest first; stop at the first failure and wait
        out the backoff before the next try. Returns how many were delivered."""
        now = time.monotonic() if now is None else now
        if now < self._retry_at:
            return 0
        sent = 0
        for path in self.pending():
            status = self._post(path.read_bytes())
            if status == 200:
                path.unlink()
                sent += 1
                continue
            if status == 422:
                log.error("app rejected counts batch %s; kept in rejected/", path.name)
                path.replace(self.outbox / "rejected" / path.name)
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
