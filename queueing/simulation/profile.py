"""What a simulated hall's day looks like: when people come, for what, how old they
are, how long they take at the window and how their visit ends.

Every number the statistics tests check against lives here (tests/test_simulation.py
states the tolerances). Service times are lognormal: most visits are quick, a few take
three times as long, as hall staff describe them.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from dataclasses import dataclass, field

# Relative arrivals per hour of the day (local hour: weight): a queue at the door at
# opening, the mid-morning peak, the lunch dip, a second wave after lunch, a quiet end.
# Nobody takes a number outside these hours; windows serve whoever still waits.
HOURLY = {9: 1.25, 10: 1.5, 11: 1.15, 12: 0.5, 13: 0.8, 14: 1.15, 15: 1.0, 16: 0.65}
# Monday is the busiest day, Saturday a half day's crowd, Sunday closed.
WEEKDAY = (1.2, 1.0, 1.0, 1.0, 1.1, 0.5, 0.0)

MISSING_DOCUMENTS = {
    "A": ("身份证原件", "户口簿", "退休审批表", "银行卡复印件"),
    "B": ("劳动合同", "身份证复印件", "单位介绍信"),
    "C": ("医院发票原件", "出院小结", "异地就医备案表"),
    "D": ("离职证明", "失业登记表", "就业创业证"),
    "F": ("工伤认定书", "诊断证明", "生育登记表"),
}
GAVE_UP_REASON = "visitor left before being called"


@dataclass(frozen=True)
class ServiceTime:
    """Lognormal service time: `median_s` and the log's standard deviation."""

    median_s: float
    sigma: float = 0.45

    @property
    def mean_s(self) -> float:
        return self.median_s * math.exp(self.sigma**2 / 2)

    def draw(self, rng: random.Random) -> float:
        # capped at 6 medians: a clerk escalates a visit that runs longer
        return min(rng.lognormvariate(math.log(self.median_s), self.sigma), 6 * self.median_s)


def _service_times() -> dict[str, ServiceTime]:
    """From the demo city's typical minutes per service (imported here: the demo
    package imports the simulator)."""
    from queueing.demo.city import SERVICE_BY_PREFIX

    times = {}
    for prefix, spec in SERVICE_BY_PREFIX.items():
        low, high = spec.minutes
        times[prefix] = ServiceTime(median_s=60 * (low + (high - low) * 0.4))
    return times


@dataclass(frozen=True)
class Profile:
    """The configured behaviour of visitors and clerks; one per simulation run."""

    arrivals_per_window: float = 32.0  # a weekday's arrivals per staffed window
    hourly: dict[int, float] = field(default_factory=lambda: dict(HOURLY))
    weekday: tuple[float, ...] = WEEKDAY
    service_times: dict[str, ServiceTime] = field(default_factory=_service_times)
    elderly_share: float = 0.25  # visitors 60 or older
    id_share: float = 0.8  # visitors who show their ID card at the kiosk
    disabled_share: float = 0.015
    appointment_share: float = 0.06
    give_up_share: float = 0.03  # leave after 15-50 minutes if not called by then
    no_show_share: float = 0.04  # called, recalled once, never come
    recall_share: float = 0.08  # called, recalled once, then come
    transfer_share: float = 0.04  # sent to another service at the window
    consult_transfer_share: float = 0.25  # ... from general enquiries (E)
    missing_share: float = 0.14  # leave lacking a document (not for E)
    referred_share: float = 0.04
    return_share: float = 0.6  # of those lacking a document and known by ID: come back
    return_days: tuple[int, int] = (1, 5)  # ... this many business days later

    def hour_weight(self, hour: int) -> float:
        return self.hourly.get(hour, 0.0)

    def expected_per_hour(self, windows: int, date: dt.date) -> dict[int, float]:
        """Expected new arrivals per local hour on `date` (returning visitors extra)."""
        total = self.arrivals_per_window * windows * self.weekday[date.weekday()]
        weights = sum(self.hourly.values())
        return {hour: total * w / weights for hour, w in self.hourly.items()}

    def expected_repeat_share(self, shares: dict[str, float]) -> float:
        """The share of tickets that are a return for the same service once returns run
        at their steady rate.

        A new ticket reaches an outcome unless its visitor gives up or is a no-show; a
        transfer moves it to another (non-enquiry) service, where it reaches an outcome
        too, so a ticket of any service but E ends lacking a document with chance
        `missing_share`, an E ticket only if transferred. Then the visitor is known by
        ID and comes back: chance `p` per new ticket. A returning visitor is known by
        ID and back for a non-E service: chance `p_r`. Returns R per N new tickets
        satisfy R = N p + R p_r."""
        reach = 1 - self.no_show_share - self.give_up_share
        enquiries = shares.get("E", 0.0) / sum(shares.values())
        lacking = self.missing_share * (1 - enquiries + enquiries * self.consult_transfer_share)
        p = reach * lacking * self.id_share * self.return_share
        p_r = reach * self.missing_share * self.return_share
        returns = p / (1 - p_r)  # per new ticket
        return returns / (1 + returns)


@functools.cache
def default_profile() -> Profile:
    return Profile()
