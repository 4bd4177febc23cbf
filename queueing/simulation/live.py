"""The live demo: simulated visitors and clerks acting now, through a running server.

Why over HTTP, from a process of its own: the embedded default's channel layer lives
in the server's memory, so a change made here through the services would reach the
database but no browser. Through the API (/api/v1/, a bearer token made here) every
ticket, call and window change is made by the server itself, which pushes it to the
boards and tablets exactly as for a kiosk or an external queue system. It also keeps
SQLite to one writer: this process writes only its tokens and the cameras' rows, once,
at start (short transactions; the settings' 20 s lock timeout covers the server).

Camera counts go the way a vision worker sends them (POST /api/v1/vision/counts with a
camera token): per zone and minute the mean, peak and number of samples of what the
simulated camera sees. With `camera_port`, each hall's camera is also served as an
MJPEG stream (http://127.0.0.1:PORT/<hall>.mjpg), the camera's source, so that the
real vision worker can read it like an IP camera and count it itself.

Time runs `speed` times faster than the clock: people act sooner, while the server
stamps everything with its own clock.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import urllib.error
import urllib.request
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
from django.db import transaction
from django.utils import timezone

from queueing.demo.city import HALLS
from queueing.models import ApiToken, Hall, Service
from queueing.simulation import camera
from queueing.simulation.engine import CLOSED, OPEN, PAUSED, Desk, HallSim, TicketRef, Visit
from queueing.simulation.profile import default_profile
from queueing.simulation.setup import desk_specs, service_shares
from queueing.tokens import api_token_create, api_token_revoke
from vision.models import Camera, Zone

TOKEN_NAME = "hall simulator"
SAMPLE_EVERY_S = 5.0
POST_EVERY_SAMPLES = 3  # the running minute is sent every 15 s


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


class Api:
    """A small JSON client: `Authorization: Bearer <key>`, one call at a time."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode(errors="replace")) from None


def _ref(ticket: dict[str, Any]) -> TicketRef:
    return TicketRef(
        ticket["id"], ticket["number"], ticket["service"], bool(ticket.get("is_priority"))
    )


class ApiDriver:
    """The simulator's decisions as API calls, as a kiosk and window consoles of an
    external system would make them (the server stamps the time)."""

    def __init__(self, api: Api, hall: str, windows: dict[str, int]) -> None:
        self.api, self.hall, self.windows = api, hall, windows

    def _status(self, window: str, status: str) -> None:
        self.api.call("POST", f"/windows/{self.windows[window]}/status", {"status": status})

    def window_open(self, window: str, at: dt.datetime) -> None:
        self._status(window, "open")

    def window_pause(self, window: str, at: dt.datetime) -> None:
        self._status(window, "paused")

    def window_close(self, window: str, at: dt.datetime) -> None:
        self._status(window, "closed")

    def issue(self, visit: Visit, at: dt.datetime) -> TicketRef:
        body = {
            "service": visit.service,
            "id_number": visit.person.id_number,
            "is_disabled": visit.disabled,
            "has_appointment": visit.appointment,
        }
        return _ref(self.api.call("POST", f"/halls/{self.hall}/tickets", body))

    def call_next(self, window: str, at: dt.datetime) -> TicketRef | None:
        answer = self.api.call("POST", f"/windows/{self.windows[window]}/call-next", {})
        return _ref(answer["ticket"]) if answer["ticket"] else None

    def recall(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        self.api.call("POST", f"/tickets/{ticket.id}/recall", {})

    def start(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        self.api.call("POST", f"/tickets/{ticket.id}/start", {})

    def complete(
        self, ticket: TicketRef, window: str, outcome: str, missing: str, at: dt.datetime
    ) -> None:
        body = {"outcome": outcome, "missing_documents": missing}
        self.api.call("POST", f"/tickets/{ticket.id}/complete", body)

    def no_show(self, ticket: TicketRef, window: str, at: dt.datetime) -> None:
        self.api.call("POST", f"/tickets/{ticket.id}/no-show", {})

    def transfer(self, ticket: TicketRef, window: str, service: str, at: dt.datetime) -> None:
        self.api.call("POST", f"/tickets/{ticket.id}/transfer", {"service": service})

    def cancel(self, ticket: TicketRef, reason: str, at: dt.datetime) -> None:
        self.api.call("POST", f"/tickets/{ticket.id}/cancel", {"reason": reason})


@dataclass
class Keys:
    api: str
    cameras: str
    zones: dict[str, dict[str, int]]  # hall: layout key: zone id
    camera_ids: dict[str, int]


def prepare(halls: list[str], camera_port: int | None) -> Keys:
    """The simulator's tokens (earlier ones revoked) and each hall's overview camera
    with its zones: the only rows this process writes itself."""
    from vision.services import camera_token_create

    with transaction.atomic():
        for old in ApiToken.objects.filter(name=TOKEN_NAME, revoked_at=None):
            api_token_revoke(token=old)
        rows = list(Hall.objects.filter(code__in=halls))
        _token, api_key = api_token_create(name=TOKEN_NAME, halls=rows)
        cameras: list[Camera] = []
        zones: dict[str, dict[str, int]] = {}
        for hall in rows:
            spec = next(s for s in HALLS if s.code == hall.code)
            port = camera_port or 8090
            cam, _created = Camera.objects.update_or_create(
                hall=hall,
                name=camera.CAMERA_NAME,
                defaults={"source": f"http://127.0.0.1:{port}/{hall.code}.mjpg"},
            )
            services = {s.prefix: s for s in Service.objects.filter(prefix__in=spec.services)}
            zones[hall.code] = {}
            for z in camera.layout(spec.services):
                row, _created = Zone.objects.update_or_create(
                    camera=cam,
                    name=z.name,
                    defaults={
                        "kind": z.kind,
                        "polygon": [list(p) for p in z.polygon],
                        "capacity": z.capacity,
                        "service": services.get(z.service or ""),
                    },
                )
                zones[hall.code][z.key] = row.pk
            cameras.append(cam)
        _token, camera_key = camera_token_create(name=TOKEN_NAME, cameras=cameras)
    return Keys(api_key, camera_key, zones, {c.hall.code: c.pk for c in cameras})


@dataclass
class LiveHall:
    code: str
    sim: HallSim
    driver: ApiDriver
    services: list[str]
    labels: list[str]
    tz: zoneinfo.ZoneInfo
    samples: dict[str, list[int]] = field(default_factory=dict)
    minute: dt.datetime | None = None
    frame: bytes = b""  # the latest rendered JPEG, for the MJPEG server
    clock: dt.datetime | None = None  # the simulated time
    done: int = 0


def _sync(live: LiveHall, api: Api, at: dt.datetime) -> None:
    """Read every window of the hall from the server and take it over as it is."""
    state = api.call("GET", f"/halls/{live.code}/state")
    for w in state["windows"]:
        if w["label"] not in live.labels:
            continue
        live.driver.windows[w["label"]] = w["id"]
        held = w["ticket"]
        ref = _ref({**held, "is_priority": False}) if held else None
        serving = bool(held and held["status"] == "serving")
        live.sim.adopt(at, w["label"], w["status"], ref, serving)


def _plan(live: LiveHall, at: dt.datetime, rng: random.Random) -> None:
    """The next five minutes: arrivals at the profile's rate for this hour (the demo may
    run at night: then at the day's mean rate), and now and then a clerk's break."""
    sim = live.sim
    staffed = sum(1 for d in sim.desks if d.spec.plan != "closed")
    today = sim.profile.expected_per_hour(staffed, at.date())
    if not any(today.values()):  # the halls' day off: show a weekday
        today = sim.profile.expected_per_hour(staffed, at.date() - dt.timedelta(days=2))
    mean = sum(today.values()) / len(today)
    rate = today.get(at.hour, mean)
    end = at + dt.timedelta(minutes=5)
    sim.plan_arrivals(at, end, windows=staffed, rates={at.hour: rate, end.hour: rate})
    open_desks = [d for d in sim.desks if d.status == OPEN]
    if open_desks and rng.random() < 0.25:
        desk = rng.choice(open_desks)
        pause_at = at + dt.timedelta(minutes=rng.uniform(0, 5))
        sim.at(pause_at, sim.pause, desk)
        sim.at(pause_at + dt.timedelta(minutes=rng.uniform(4, 10)), sim.open, desk)
    sim.at(end, lambda t: _plan(live, t, rng))


# Real seconds after the start at which a visitor of 60 or more takes a number in each
# hall, as in the loaded day's last minutes: the floor tablet opened with the demo gets
# an alert in its first minute whatever the hour's rate (the quarter of elderly among
# the profile's visitors brings the rest).
ELDERLY_AT_S = ((20.0, 30.0), (40.0, 50.0))


def _plan_first_minute(live: LiveHall, at: dt.datetime, speed: float) -> None:
    sim = live.sim
    for low, high in ELDERLY_AT_S:
        when = at + dt.timedelta(seconds=speed * sim.rng.uniform(low, high))
        sim.at(when, sim.arrive, sim.new_visit(when.date(), elderly=True))


def run_live(
    *,
    halls: list[str],
    url: str,
    seed: int,
    speed: float,
    duration: float | None,
    camera_port: int | None,
    log: Callable[[str], Any],
) -> None:
    keys = prepare(halls, camera_port)
    api = Api(url, keys.api)
    vision_api = Api(url, keys.cameras)
    _wait_for(api, halls[0], log)
    began_real = time.monotonic()
    began = timezone.now()
    lives = []
    for code in halls:
        spec = next(s for s in HALLS if s.code == code)
        tz = zoneinfo.ZoneInfo(Hall.objects.get(code=code).timezone)
        driver = ApiDriver(api, code, {})
        rng = random.Random(f"{seed}/{code}/live")
        sim = HallSim(
            code=code,
            desks=desk_specs(spec),
            shares=service_shares(spec),
            driver=driver,
            rng=rng,
            profile=default_profile(),
        )
        sim.ask_always = True  # the waiting tickets of the day so far are the server's
        live = LiveHall(code, sim, driver, list(spec.services), [w.label for w in spec.windows], tz)
        now = began.astimezone(tz)
        _sync(live, api, now)
        _plan(live, now, random.Random(f"{seed}/{code}/plan"))
        _plan_first_minute(live, now, speed)
        lives.append(live)
    if camera_port:
        serve_cameras({h.code: (lambda h=h: h.frame) for h in lives}, camera_port)  # type: ignore[misc]
    log(f"Simulating {', '.join(halls)} live at {speed:g}x through {url}/api/v1/ (Ctrl-C stops).")
    next_sample = 0.0
    next_report = time.monotonic() + 60
    while duration is None or time.monotonic() - began_real < duration:
        elapsed = (time.monotonic() - began_real) * speed
        for live in lives:
            now = (began + dt.timedelta(seconds=elapsed)).astimezone(live.tz)
            live.clock = now

            def resync(exc: Exception, desk: Desk | None, live: LiveHall = live) -> None:
                # someone at the hall (a manager on the board, a clerk) got there first
                if desk is None:
                    return
                try:
                    _sync(live, api, live.sim.now or timezone.now())
                except (ApiError, urllib.error.URLError) as again:
                    log(f"  {live.code}: cannot read the hall ({again})")

            live.done += live.sim.run_until(now, on_error=resync)
        if time.monotonic() >= next_sample:
            next_sample = time.monotonic() + SAMPLE_EVERY_S
            for live in lives:
                _sample(live, keys, vision_api, log, render=camera_port is not None)
        if time.monotonic() >= next_report:
            next_report += 60
            log("  " + ", ".join(f"{live.code}: {live.done} actions" for live in lives))
        time.sleep(0.2)


def _wait_for(api: Api, hall: str, log: Callable[[str], Any]) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            api.call("GET", f"/halls/{hall}/state")
            return
        except (urllib.error.URLError, ConnectionError, ApiError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer: {exc}") from None
            time.sleep(0.5)


def _sample(
    live: LiveHall, keys: Keys, api: Api, log: Callable[[str], Any], *, render: bool
) -> None:
    """One look through the hall's camera. Every few samples the minute so far goes to
    the server, and the whole minute once it is over, as a vision worker sends them
    (the server keeps, per zone and minute, the figures with the most samples): the
    camera reports often enough never to look offline."""
    now = timezone.now().astimezone(live.tz)
    sim_now = live.clock or now
    placements = camera.place(live.sim.scene(sim_now), live.services, live.labels)
    counts = camera.zone_counts(placements)
    if render:
        ok, jpeg = cv2.imencode(".jpg", camera.render(placements), [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            live.frame = jpeg.tobytes()
    minute = now.replace(second=0, microsecond=0)
    if live.minute is not None and minute != live.minute and live.samples:
        _post_minute(live, keys, api, log)
    if live.minute != minute:
        live.minute, live.samples = minute, {}
    for key in keys.zones[live.code]:
        live.samples.setdefault(key, []).append(counts.get(key, 0))
    if len(next(iter(live.samples.values()), [])) % POST_EVERY_SAMPLES == 0:
        _post_minute(live, keys, api, log)


def _post_minute(live: LiveHall, keys: Keys, api: Api, log: Callable[[str], Any]) -> None:
    assert live.minute is not None
    zones = keys.zones[live.code]
    body = {
        "camera": keys.camera_ids[live.code],
        "batch": f"sim-{live.code}-{live.minute.isoformat()}",
        "health": {
            "fps": 1 / SAMPLE_EVERY_S,
            "last_frame_at": timezone.now().isoformat(),
            "backend": "simulator",
            "online": True,
        },
        "minutes": [
            {
                "zone": zones[key],
                "minute": live.minute.isoformat(),
                "mean": round(sum(values) / len(values), 2),
                "peak": max(values),
                "samples": len(values),
            }
            for key, values in live.samples.items()
        ],
    }
    try:
        api.call("POST", "/vision/counts", body)
    except (ApiError, urllib.error.URLError) as exc:
        log(f"  {live.code}: camera counts not sent ({exc})")


def serve_cameras(frames: Mapping[str, Callable[[], bytes]], port: int) -> ThreadingHTTPServer:
    """Each hall's camera as an MJPEG stream at /<hall>.mjpg (one frame a second, what a
    vision worker's OpenCV capture reads from an IP camera) and one frame at /<hall>.jpg.
    `frames` gives each hall's latest JPEG. Serves from a thread; returns the server."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line a frame would drown the demo's output

        def do_GET(self) -> None:
            code, _dot, kind = self.path.strip("/").partition(".")
            latest = frames.get(code)
            if latest is None or kind not in ("mjpg", "jpg"):
                self.send_error(404)
                return
            self.send_response(200)
            if kind == "jpg":
                jpeg = latest()
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(jpeg)))
                self.end_headers()
                self.wfile.write(jpeg)
                return
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                while True:
                    jpeg = latest()
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                    self.wfile.write(f"Content-Length: {len(jpeg)}\r\n\r\n".encode())
                    self.wfile.write(jpeg + b"\r\n")
                    time.sleep(1.0)
            except (BrokenPipeError, ConnectionResetError):
                return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


__all__ = ["CLOSED", "PAUSED", "run_live", "serve_cameras"]
