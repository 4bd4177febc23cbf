"""The synthetic camera: frames rendered from the simulated hall give the real vision
pipeline (ColourDetector, zones by the feet, debouncing) the counts the simulator meant."""

from __future__ import annotations

import datetime as dt
import random
import socket
import zoneinfo

import cv2
import numpy as np
import pytest

from queueing.simulation.camera import layout, place, render, zone_counts
from queueing.simulation.engine import HallSim, TicketRef, Visit
from queueing.simulation.live import serve_cameras
from queueing.simulation.profile import default_profile
from queueing.simulation.setup import desk_specs, service_shares
from vision.detectors import select_backend
from vision.pipeline.analyzer import FrameAnalyzer
from vision.pipeline.capture import open_capture
from vision.pipeline.zones import ZoneSpec
from vision.synthetic import ColourDetector

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


class Hall:
    """The far side of the simulator's driver for a camera test: a numbered ticket
    machine and windows that call the longest waiting (the camera only needs where
    people are; the real calling policy is exercised in tests/test_simulation.py)."""

    def __init__(self) -> None:
        self.waiting: list[TicketRef] = []
        self.n = 0
        self.skills: dict[str, frozenset[str]] = {}

    def issue(self, visit: Visit, at: dt.datetime) -> TicketRef:
        self.n += 1
        ref = TicketRef(self.n, f"{visit.service}{self.n:03d}", visit.service, False)
        self.waiting.append(ref)
        return ref

    def call_next(self, window: str, at: dt.datetime) -> TicketRef | None:
        skills = self.skills[window]
        ref = next((t for t in self.waiting if t.service in skills), None)
        if ref is not None:
            self.waiting.remove(ref)
        return ref

    def transfer(self, ticket: TicketRef, window: str, service: str, at: dt.datetime) -> None:
        self.waiting.append(TicketRef(ticket.id, ticket.number, service, False))

    def cancel(self, ticket: TicketRef, reason: str, at: dt.datetime) -> None:
        self.waiting = [t for t in self.waiting if t.id != ticket.id]

    def __getattr__(self, name: str):  # window changes, start, complete, ...: nothing to keep
        return lambda *args, **kwargs: None


def simulated_hall(code: str = "futian") -> tuple[HallSim, list[str], list[str]]:
    from queueing.demo.city import HALLS

    spec = next(s for s in HALLS if s.code == code)
    hall = Hall()
    sim = HallSim(
        code=code,
        desks=desk_specs(spec),
        shares=service_shares(spec),
        driver=hall,
        rng=random.Random(4),
        profile=default_profile(),
    )
    hall.skills = {d.spec.label: d.spec.skills for d in sim.desks}
    opens = dt.datetime(2026, 3, 2, 9, tzinfo=TZ)
    for desk in sim.desks[:4]:  # few windows: queues grow, the waiting area fills
        sim.at(opens, sim.open, desk)
    sim.plan_arrivals(opens, opens + dt.timedelta(hours=3), windows=len(sim.desks))
    return sim, list(spec.services), [d.spec.label for d in sim.desks]


def zone_specs(services: list[str]) -> tuple[list[ZoneSpec], dict[int, str]]:
    zones = layout(services)
    specs = [ZoneSpec(i + 1, z.name, z.polygon, z.kind) for i, z in enumerate(zones)]
    return specs, {i + 1: z.key for i, z in enumerate(zones)}


@pytest.mark.parametrize("minutes", [1, 7, 25, 60, 120, 170])
def test_the_pipeline_counts_what_the_simulator_meant(minutes):
    sim, services, windows = simulated_hall()
    at = dt.datetime(2026, 3, 2, 9, tzinfo=TZ) + dt.timedelta(minutes=minutes)
    sim.run_until(at)
    placements = place(sim.scene(at), services, windows)
    meant = zone_counts(placements)
    specs, keys = zone_specs(services)
    analyzer = FrameAnalyzer(ColourDetector(), specs)
    frame = render(placements)
    # the same scene for 10 s at 1 fps: the debounced counts settle on what is there
    for t in range(10):
        observation = analyzer.analyze(frame, float(t))
    seen = {keys[z]: n for z, n in observation.zones.items() if n}
    assert seen == meant
    assert observation.people == len(placements)


def test_a_busy_hall_fills_the_queue_lines_and_the_seats_and_survives_jpeg():
    sim, services, windows = simulated_hall()
    at = dt.datetime(2026, 3, 2, 11, 30, tzinfo=TZ)
    sim.run_until(at)
    placements = place(sim.scene(at), services, windows)
    meant = zone_counts(placements)
    assert meant["waiting"] > 40
    assert all(meant.get(f"queue:{p}", 0) == 3 for p in "ABCD")
    ok, jpeg = cv2.imencode(".jpg", render(placements), [cv2.IMWRITE_JPEG_QUALITY, 80])
    frame = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert ok and frame is not None
    specs, keys = zone_specs(services)
    observation = FrameAnalyzer(ColourDetector(), specs, enter_s=0).analyze(
        frame.astype(np.uint8), 0.0
    )
    assert {keys[z]: n for z, n in observation.raw_zones.items() if n} == meant


def test_the_vision_worker_reads_the_simulated_camera_as_an_ip_camera():
    sim, services, windows = simulated_hall()
    at = dt.datetime(2026, 3, 2, 10, 30, tzinfo=TZ)
    sim.run_until(at)
    placements = place(sim.scene(at), services, windows)
    ok, jpeg = cv2.imencode(".jpg", render(placements), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = serve_cameras({"futian": jpeg.tobytes}, port)
    try:
        # what run_vision_worker does with a camera's source
        capture = open_capture(f"http://127.0.0.1:{port}/futian.mjpg")
        read, frame = capture.read()
        capture.release()
    finally:
        server.shutdown()
    assert read and frame is not None
    specs, keys = zone_specs(services)
    # the worker's detector as VISION_BACKEND=synthetic names it
    detector = select_backend("synthetic")
    assert detector.name == "synthetic-colour"
    observation = FrameAnalyzer(detector, specs, enter_s=0).analyze(frame, 0.0)
    assert {keys[z]: n for z, n in observation.raw_zones.items() if n} == zone_counts(placements)
