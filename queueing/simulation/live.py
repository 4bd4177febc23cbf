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

People share the halls with the simulation. A window a person has (its current clerk,
set when someone signed in opens, pauses or acts at it: the hall state's `staffed`) is
left to them: its visitor and its plan are dropped and nothing more is sent for it.
When the server refuses an action (409: someone got there first), the window's plan is
void and, at most every RESYNC_MIN_S, the hall is read again and each window that
differs from what the simulation believes is taken over as it is: nothing is replayed.
A failure of the server (5xx, no answer) holds the hall back, with a backoff doubling
up to BACKOFF_MAX_S. Each hall runs in a thread of its own with its camera, so one
hall's trouble never stops the others nor the cameras' posts.
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
from queueing.models import ApiToken, Hall, Service, Window
from queueing.simulation import camera
from queueing.simulation.engine import (
    CLOSED,
    OPEN,
    PAUSED,
    SERVING,
    Desk,
    HallSim,
    TicketRef,
    Visit,
)
from queueing.simulation.profile import default_profile
from queueing.simulation.setup import desk_specs, service_shares
from queueing.tokens import SIMULATOR_TOKEN_NAME, api_token_create, api_token_revoke
from vision.models import Camera, Zone

TOKEN_NAME = SIMULATOR_TOKEN_NAME
SAMPLE_EVERY_S = 5.0
POST_EVERY_SAMPLES = 3  # the running minute is sent every 15 s
SYNC_EVERY_S = 30.0  # each hall is read again this often (real seconds), conflict or not
RESYNC_MIN_S = 2.0  # ... and after a conflict, at most this often
BACKOFF_MIN_S, BACKOFF_MAX_S = 1.0, 60.0  # holding a hall back after the server failed
EVENTS_PER_TICK = 25  # at most this many actions of one hall per tick (0.2 s)
TICK_S = 0.2
HTTP_TIMEOUT_S = 10.0


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
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
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
        # The simulated clerks take the windows: a clerk the loaded history recorded is
        # nobody at a console now. Whoever signs in and acts at a window takes it back.
        Window.objects.filter(hall__in=rows).exclude(clerk=None).update(clerk=None)
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
    dirty: set[str] = field(default_factory=set)  # windows refused since the last sync
    conflicts: int = 0
    failures: int = 0  # the server's failures in a row
    hold_until: float = 0.0  # monotonic: no action of this hall before
    synced_at: float = 0.0  # monotonic


class Trouble(Exception):
    """The server failed (no answer, 5xx): hold the hall back for a while."""


def transient(exc: BaseException) -> bool:
    """A failure worth waiting out, as opposed to a refusal (4xx) of one action."""
    if isinstance(exc, ApiError):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, OSError)  # URLError, timeouts, refused or reset connections


def _agrees(desk: Desk, window: dict[str, Any]) -> bool:
    held = window["ticket"]
    mine = desk.ticket
    if desk.status != window["status"] or (mine is None) != (held is None):
        return False
    if mine is None or held is None:
        return True
    return mine.ref.id == held["id"] and (mine.status == SERVING) == (held["status"] == "serving")


def _sync(
    live: LiveHall, api: Api, at: dt.datetime, log: Callable[[str], Any] | None = None
) -> int:
    """Read every window of the hall from the server. A window a person has is left to
    them; one refused since the last sync, or that differs from what the simulation
    believes, is taken over as it is. Returns how many windows were taken over or left."""
    state = api.call("GET", f"/halls/{live.code}/state")
    changed = 0
    for w in state["windows"]:
        label = w["label"]
        if label not in live.labels:
            continue
        live.driver.windows[label] = w["id"]
        desk = live.sim.desk(label)
        if w.get("staffed"):
            if not desk.staffed:
                live.sim.leave(label)
                changed += 1
                if log is not None:
                    log(f"  {live.code}: window {label} is staffed; left to its clerk")
            desk.status = w["status"]
            continue
        if label not in live.dirty and not desk.staffed and _agrees(desk, w):
            continue
        held = w["ticket"]
        ref = _ref({**held, "is_priority": False}) if held else None
        serving = bool(held and held["status"] == "serving")
        live.sim.adopt(at, label, w["status"], ref, serving)
        changed += 1
    live.dirty.clear()
    live.synced_at = time.monotonic()
    return changed


def _plan(live: LiveHall, at: dt.datetime, rng: random.Random) -> None:
    """The next five minutes: arrivals at the profile's rate for this hour (the demo may
    run at night: then at the day's mean rate), and now and then a clerk's break."""
    sim = live.sim
    working = sum(1 for d in sim.desks if d.spec.plan != "closed")
    today = sim.profile.expected_per_hour(working, at.date())
    if not any(today.values()):  # the halls' day off: show a weekday
        today = sim.profile.expected_per_hour(working, at.date() - dt.timedelta(days=2))
    mean = sum(today.values()) / len(today)
    rate = today.get(at.hour, mean)
    end = at + dt.timedelta(minutes=5)
    sim.plan_arrivals(at, end, windows=working, rates={at.hour: rate, end.hour: rate})
    open_desks = [d for d in sim.desks if d.status == OPEN and not d.staffed]
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
        live.clock = now
        live.dirty = set(live.labels)  # take every window over as the server has it
        _sync(live, api, now)
        _plan(live, now, random.Random(f"{seed}/{code}/plan"))
        _plan_first_minute(live, now, speed)
        lives.append(live)
    if camera_port:
        serve_cameras({h.code: (lambda h=h: h.frame) for h in lives}, camera_port)  # type: ignore[misc]
    log(f"Simulating {', '.join(halls)} live at {speed:g}x through {url}/api/v1/ (Ctrl-C stops).")
    stop = threading.Event()

    def clock() -> dt.datetime:
        return began + dt.timedelta(seconds=(time.monotonic() - began_real) * speed)

    threads = [
        threading.Thread(
            target=run_hall,
            name=f"sim-{live.code}",
            kwargs={
                "live": live,
                "api": api,
                "clock": clock,
                "stop": stop,
                "log": log,
                "camera": lambda live=live: _sample(
                    live, keys, vision_api, log, render=camera_port is not None
                ),
            },
            daemon=True,
        )
        for live in lives
    ]
    for thread in threads:
        thread.start()
    try:
        next_report = time.monotonic() + 60
        while duration is None or time.monotonic() - began_real < duration:
            stop.wait(min(1.0, max(0.0, next_report - time.monotonic())))
            if time.monotonic() >= next_report:
                next_report += 60
                log("  " + ", ".join(_report(live) for live in lives))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=2 * TICK_S + 1)


def _report(live: LiveHall) -> str:
    line = f"{live.code}: {live.done} actions"
    if live.conflicts:
        line += f", {live.conflicts} refused"
    staffed = [d.spec.label for d in live.sim.desks if d.staffed]
    if staffed:
        line += f", staffed {'/'.join(staffed)}"
    if live.hold_until > time.monotonic():
        line += ", held back"
    return line


def run_hall(
    *,
    live: LiveHall,
    api: Api,
    clock: Callable[[], dt.datetime],
    stop: threading.Event,
    log: Callable[[str], Any],
    camera: Callable[[], None] | None = None,
) -> None:
    """One hall's loop until `stop`: its camera every SAMPLE_EVERY_S whatever the
    hall's state, a sync when one is due (after a conflict, at most every RESYNC_MIN_S;
    else every SYNC_EVERY_S), and the actions due, unless the hall is held back."""
    next_sample = 0.0
    while not stop.is_set():
        now_m = time.monotonic()
        if camera is not None and now_m >= next_sample:
            next_sample = now_m + SAMPLE_EVERY_S
            try:
                camera()
            except Exception as exc:  # a camera's trouble is not the hall's
                log(f"  {live.code}: camera sample failed ({exc})")
        try:
            step(live, api, clock().astimezone(live.tz), log)
        except Exception as exc:
            log(f"  {live.code}: {exc}")
            hold(live, log)
        stop.wait(TICK_S)


def step(live: LiveHall, api: Api, now: dt.datetime, log: Callable[[str], Any]) -> int:
    """One tick of a hall at simulated time `now`: a sync when due, then up to
    EVENTS_PER_TICK actions. Returns how many actions were carried out."""
    now_m = time.monotonic()
    if now_m < live.hold_until:
        return 0
    live.clock = now
    due = now_m - live.synced_at >= (RESYNC_MIN_S if live.dirty else SYNC_EVERY_S)
    if due:
        try:
            _sync(live, api, now, log)
        except Exception as exc:
            if not transient(exc):
                raise
            hold(live, log, exc)
            return 0

    # until the sync, the refused windows' plans are void: the other windows go on
    def refused(exc: Exception, desk: Desk | None) -> None:
        if transient(exc):
            if desk is not None:
                live.dirty.add(desk.spec.label)
            raise Trouble(str(exc)) from exc
        # someone at the hall (a clerk, a manager on the board) got there first
        live.conflicts += 1
        if desk is not None:
            live.dirty.add(desk.spec.label)

    try:
        done = live.sim.run_until(now, on_error=refused, limit=EVENTS_PER_TICK)
    except Trouble as exc:
        hold(live, log, exc)
        return 0
    live.done += done
    live.failures = 0
    return done


def hold(live: LiveHall, log: Callable[[str], Any], exc: BaseException | None = None) -> None:
    """The server failed: no action of this hall for a while (doubling, bounded), then
    a sync of all its windows before anything else."""
    live.failures += 1
    delay = min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2 ** (live.failures - 1))
    live.hold_until = time.monotonic() + delay
    live.dirty.update(live.labels)
    live.synced_at = 0.0
    log(f"  {live.code}: the server failed ({exc}); trying again in {delay:g} s")


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
    except (ApiError, OSError) as exc:
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
