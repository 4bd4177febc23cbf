"""Staffing advice: how many windows each hour needs, against how many it has.

1. Forecast arrivals per service and hour from the hall's hour-of-week profile: the
   tickets issued on the same weekday and hour in each of the last WEEKS weeks, weighted
   by DECAY ** (k - 1) for the week k weeks back (1, 0.6, 0.36, 0.22, ... for the last
   eight weeks), so a change in demand shows within two or three weeks while one odd day
   does not swing the forecast. Weeks before the hall's first recorded ticket are left
   out rather than read as zeros.
2. Group windows by skill set (the distinct sets of services they handle). A service
   that several groups handle is split among them in proportion to their windows.
3. Per group and hour, a pooled M/M/c queue (Erlang C) with the learned mean window
   occupancy per service (queueing.estimation.distributions) gives the share of visitors
   who would wait past their service's target with c windows open:
       P(W > t) = C(c, a) * exp(-(c - a) * t / mean_s),  a = lambda * mean_s,
   averaged over the group's services weighted by their arrivals. The advice is the
   smallest c that keeps that share under TARGET_SHARE. It treats each hour as a steady
   state, which overstates the queue an hour inherits from a busy one before it only
   mildly at these loads; it is a staffing guide, not a quote.
4. Compare with the windows planned: for today, the windows open or paused now; for a
   later day, the windows that called visitors in that hour the last time that weekday
   was seen. Priority windows are never advised to close.
5. Say nothing the data cannot support: a day is advised only when at least MIN_WEEKS
   of its weekdays are recorded (a day with MIN_DAY_TICKETS tickets or more; a few
   stray tickets are not a day's pattern, and a forecast of zero from them would
   advise closing every window); otherwise the plan says how many days it has of the
   HISTORY_DAYS_NEEDED. Within an hour, groups that share a service lend each other
   their spare windows before any is advised to close, so one hour never says both
   "a pension window could close" and "all pension windows are needed".
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from queueing.estimation.distributions import hall_model
from queueing.models import Hall, Service, Ticket, Window

WEEKS = 8
DECAY = 0.6
TARGET_SHARE = 0.2
# The history behind a day's forecast does not change during the day; an hour bounds
# how long a late import of past tickets goes unseen.
HISTORY_CACHE_S = 3600
# No hall has more windows in one skill group than this; beyond it, say "more than".
MAX_WINDOWS = 60
# What a forecast needs: this many recorded weeks of the weekday, a recorded day being
# one with at least MIN_DAY_TICKETS tickets (halls see hundreds on a working day).
MIN_WEEKS = 2
MIN_DAY_TICKETS = 10
HISTORY_DAYS_NEEDED = 7 * MIN_WEEKS


# --------------------------------------------------------------------------- queueing


def erlang_c(servers: int, load: float) -> float:
    """The probability that an arrival waits in an M/M/c queue with `servers` windows
    and offered load `load` (erlangs); 1.0 when the queue is unstable."""
    if load <= 0:
        return 0.0
    if servers <= load:
        return 1.0
    # Erlang B by its stable recursion, then C from B.
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return servers * b / (servers - load * (1 - b))


def share_past_target(
    servers: int, arrivals_per_s: float, mean_service_s: float, target_s: float
) -> float:
    """The share of arrivals who wait longer than `target_s` (M/M/c, first come first
    served)."""
    load = arrivals_per_s * mean_service_s
    if load <= 0:
        return 0.0
    if servers <= load:
        return 1.0
    return erlang_c(servers, load) * math.exp(-(servers - load) * target_s / mean_service_s)


def windows_needed(
    demand: list[tuple[float, float]], mean_service_s: float, *, share: float = TARGET_SHARE
) -> int:
    """The fewest windows that keep the share of visitors waiting past their target
    under `share`, for `demand` as (arrivals per second, target seconds) per service
    pooled at windows with one mean occupancy. MAX_WINDOWS + 1 when none will do."""
    total = sum(rate for rate, _t in demand)
    if total <= 0:
        return 0
    load = total * mean_service_s
    for servers in range(max(1, math.floor(load) + 1), MAX_WINDOWS + 1):
        past = sum(
            rate * share_past_target(servers, total, mean_service_s, target)
            for rate, target in demand
        )
        if past / total < share:
            return servers
    return MAX_WINDOWS + 1


# --------------------------------------------------------------------------- forecast


@dataclass
class Forecast:
    """Expected arrivals per (local date, hour) and service id, and the week weights."""

    arrivals: dict[tuple[dt.date, int], dict[int, float]]
    weights: list[float]
    # past days with at least MIN_DAY_TICKETS tickets, within the weeks read
    recorded: set[dt.date] = field(default_factory=set)

    def at(self, day: dt.date, hour: int) -> dict[int, float]:
        return self.arrivals.get((day, hour), {})

    def weeks_recorded(self, day: dt.date) -> int:
        """How many of the same weekdays before `day` are recorded days."""
        return sum(
            day - dt.timedelta(weeks=k) in self.recorded for k in range(1, len(self.weights) + 1)
        )


def week_weights(weeks: int = WEEKS, decay: float = DECAY) -> list[float]:
    """The weight of the week k weeks back, k = 1..weeks."""
    return [decay ** (k - 1) for k in range(1, weeks + 1)]


def forecast_arrivals(
    hall: Hall, *, days: list[dt.date], at: dt.datetime | None = None, weeks: int = WEEKS
) -> Forecast:
    """Arrivals per service and hour on each of `days`, from the same weekday and hour
    of earlier weeks, seen from `at` (only days before `at`'s business day count: a
    partial day would read as a quiet one). 1 query."""
    now = at or timezone.now()
    today = hall.business_date(now)
    weights = week_weights(weeks)
    if not days:
        return Forecast({}, weights)
    first = min(days) - dt.timedelta(weeks=weeks)
    start = dt.datetime.combine(first, dt.time(0), tzinfo=hall.tz)
    end = dt.datetime.combine(min(max(days), today), dt.time(0), tzinfo=hall.tz)
    # Grouped in the database: weeks of tickets come back as at most days x hours rows.
    rows = (
        Ticket.objects.filter(hall=hall, issued_at__gte=start, issued_at__lt=end)
        .annotate(
            day=TruncDate("issued_at", tzinfo=hall.tz),
            hour=ExtractHour("issued_at", tzinfo=hall.tz),
        )
        .values("service_id", "day", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[dt.date, int], dict[int, int]] = defaultdict(dict)
    seen_from: dt.date | None = None
    for row in rows:
        counts[(row["day"], int(row["hour"]))][row["service_id"]] = row["n"]
        seen_from = row["day"] if seen_from is None else min(seen_from, row["day"])
    arrivals: dict[tuple[dt.date, int], dict[int, float]] = {}
    if seen_from is None:
        return Forecast(arrivals, weights)
    per_day: dict[dt.date, int] = defaultdict(int)
    for (day, _hour), by_service in counts.items():
        per_day[day] += sum(by_service.values())
    recorded = {d for d, n in per_day.items() if n >= MIN_DAY_TICKETS and d < today}
    for day in days:
        past = [
            (w, day - dt.timedelta(weeks=k))
            for k, w in enumerate(weights, start=1)
            if seen_from <= day - dt.timedelta(weeks=k) < today
        ]
        total_w = sum(w for w, _d in past)
        if total_w == 0:
            continue
        for hour in range(24):
            sums: dict[int, float] = defaultdict(float)
            for w, past_day in past:
                for sid, n in counts.get((past_day, hour), {}).items():
                    sums[sid] += w * n
            if sums:
                arrivals[(day, hour)] = {sid: s / total_w for sid, s in sums.items()}
    return Forecast(arrivals, weights, recorded)


# --------------------------------------------------------------------------- advice


@dataclass(frozen=True)
class SkillGroup:
    services: tuple[Service, ...]
    window_ids: tuple[int, ...]
    priority_ids: tuple[int, ...] = ()  # the group's priority windows: never to close

    @property
    def label(self) -> str:
        return ", ".join(s.display_name for s in self.services)

    @property
    def prefixes(self) -> str:
        return "".join(s.prefix for s in self.services)


@dataclass
class GroupHour:
    group: SkillGroup
    arrivals: float  # expected visitors this hour
    needed: int
    planned: int
    waiting: float = 0.0  # the hour now running: visitors already waiting, served in it too
    priority_open: int = 0  # planned priority windows, which stay open whatever the load
    lent: int = 0  # spare windows that cover a group sharing a service (see _net)
    covered: int = 0  # windows short here that such a group's spare ones cover

    @property
    def shortfall(self) -> int:
        return max(0, self.needed - self.planned)

    @property
    def surplus(self) -> int:
        return max(0, self.planned - max(self.needed, self.priority_open))

    @property
    def to_open(self) -> int:
        return max(0, min(self.shortfall - self.covered, len(self.group.window_ids) - self.planned))

    @property
    def could_close(self) -> int:
        return max(0, self.surplus - self.lent)

    @property
    def change(self) -> int:
        """Windows to open (positive) or that could close (negative)."""
        return self.to_open - self.could_close

    @property
    def short_of_windows(self) -> bool:
        """More windows needed than the group has: re-skill others or expect breaches."""
        return self.needed - self.covered > len(self.group.window_ids)

    @property
    def quiet(self) -> bool:
        return self.arrivals < 0.5 and not self.waiting


@dataclass
class HourAdvice:
    start: dt.datetime  # local
    groups: list[GroupHour] = field(default_factory=list)

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(hours=1)

    @property
    def changes(self) -> list[GroupHour]:
        return [g for g in self.groups if g.change or g.short_of_windows]

    @property
    def quiet(self) -> bool:
        """No visitor expected in any group, none waiting."""
        return all(g.quiet for g in self.groups)

    @property
    def could_close(self) -> int:
        return sum(g.could_close for g in self.groups)


@dataclass
class QuietSpan:
    """Consecutive hours with no arrivals expected: one line, not one per hour."""

    start: dt.datetime
    end: dt.datetime
    could_close: int


@dataclass
class StaffingPlan:
    hall: Hall
    hours: list[HourAdvice]
    weights: list[float]
    has_history: bool
    history_days: int = 0  # recorded days behind the forecast
    unsupported_days: list[dt.date] = field(default_factory=list)  # open, but no advice
    days_needed: int = HISTORY_DAYS_NEEDED
    days: list[dt.date] = field(default_factory=list)  # the days asked for

    @property
    def changes(self) -> list[HourAdvice]:
        return [h for h in self.hours if h.changes]

    @property
    def rows(self) -> list[HourAdvice | QuietSpan]:
        """The hours with advice in order, runs of quiet hours of a day as one span."""
        rows: list[HourAdvice | QuietSpan] = []
        for hour in self.changes:
            last = rows[-1] if rows else None
            if not hour.quiet:
                rows.append(hour)
            elif isinstance(last, QuietSpan) and last.end == hour.start:
                last.end, last.could_close = hour.end, max(last.could_close, hour.could_close)
            else:
                rows.append(QuietSpan(hour.start, hour.end, hour.could_close))
        return rows

    def by_day(self) -> list[tuple[dt.date, list[HourAdvice]]]:
        days: dict[dt.date, list[HourAdvice]] = {}
        for hour in self.hours:
            days.setdefault(hour.start.date(), []).append(hour)
        return list(days.items())


def skill_groups(hall: Hall) -> tuple[list[SkillGroup], dict[int, str]]:
    """The hall's windows grouped by the set of services they handle (windows without a
    skill are left out), and each window's status. 1 query."""
    skills: dict[int, set[int]] = defaultdict(set)
    status: dict[int, str] = {}
    services: dict[int, Service] = {}
    priority: set[int] = set()
    for link in Window.skills.through.objects.filter(window__hall=hall).select_related(
        "service", "window"
    ):
        skills[link.window_id].add(link.service_id)
        status[link.window_id] = link.window.status
        services[link.service_id] = link.service
        if link.window.is_priority:
            priority.add(link.window_id)
    by_set: dict[frozenset[int], list[int]] = defaultdict(list)
    for wid, sids in skills.items():
        by_set[frozenset(sids)].append(wid)
    groups = [
        SkillGroup(
            services=tuple(sorted((services[s] for s in sids), key=lambda s: s.prefix)),
            window_ids=tuple(sorted(wids)),
            priority_ids=tuple(sorted(set(wids) & priority)),
        )
        for sids, wids in by_set.items()
    ]
    groups.sort(key=lambda g: (g.prefixes, g.window_ids))
    return groups, status


def _windows_seen(
    hall: Hall, *, since: dt.date, until: dt.date
) -> dict[tuple[dt.date, int], set[int]]:
    """The windows that called someone, per local date and hour. 1 query."""
    start = dt.datetime.combine(since, dt.time(0), tzinfo=hall.tz)
    end = dt.datetime.combine(until, dt.time(0), tzinfo=hall.tz)
    seen: dict[tuple[dt.date, int], set[int]] = defaultdict(set)
    for row in (
        Ticket.objects.filter(
            hall=hall, called_at__gte=start, called_at__lt=end, window__isnull=False
        )
        .annotate(
            day=TruncDate("called_at", tzinfo=hall.tz),
            hour=ExtractHour("called_at", tzinfo=hall.tz),
        )
        .values("window_id", "day", "hour")
        .distinct()
        .order_by()
    ):
        seen[(row["day"], int(row["hour"]))].add(row["window_id"])
    return seen


def _opening_hours(hall: Hall, day: dt.date) -> list[dt.datetime]:
    start = dt.datetime.combine(day, hall.opens_at.replace(minute=0), tzinfo=hall.tz)
    end = dt.datetime.combine(day, hall.closes_at, tzinfo=hall.tz)
    hours = []
    while start < end:
        hours.append(start)
        start += dt.timedelta(hours=1)
    return hours


def staffing_plan(
    hall: Hall,
    *,
    days: list[dt.date],
    at: dt.datetime | None = None,
    from_now: bool = False,
    waiting: dict[int, int] | None = None,
) -> StaffingPlan:
    """Advice per opening hour of `days` (with `from_now`, only the hours of today not
    yet over). Today's plan compares with the windows open or paused now; a later day's
    with the windows that called visitors in that hour the last time that weekday was
    seen. `waiting` (service id -> tickets waiting now) adds the queue already standing
    to the hour now running, so a hall with a backlog is never told to close windows
    because few new arrivals are forecast. 1 query, 3 when the history is not cached,
    plus the hall model's when it is relearned."""
    now = at or timezone.now()
    today = hall.business_date(now)
    groups, status = skill_groups(hall)
    forecast, seen = _history(hall, days=days, today=today, at=now)
    model = hall_model(hall, at=now)
    targets = {s.pk: s.target_wait_min * 60.0 for g in groups for s in g.services}
    means = {
        sid: math.exp(model.for_service(sid).mu + model.for_service(sid).sigma ** 2 / 2)
        for sid in targets
    }
    # a service handled by several groups is split by the groups' sizes
    capacity: dict[int, int] = defaultdict(int)
    for group in groups:
        for service in group.services:
            capacity[service.pk] += len(group.window_ids)
    open_now = {wid for wid, s in status.items() if s != Window.Status.CLOSED}
    hours: list[HourAdvice] = []
    unsupported: list[dt.date] = []
    for day in days:
        for start in _opening_hours(hall, day):
            if day < today or (from_now and start + dt.timedelta(hours=1) <= now):
                continue
            if forecast.weeks_recorded(day) < MIN_WEEKS:
                if day not in unsupported:
                    unsupported.append(day)
                continue  # a forecast of zero from no history would advise closing all
            expected = forecast.at(day, start.hour)
            running = day == today and start <= now < start + dt.timedelta(hours=1)
            backlog = (waiting or {}) if running else {}
            advice = HourAdvice(start=start)
            for group in groups:
                share = {s.pk: len(group.window_ids) / capacity[s.pk] for s in group.services}
                demand = [
                    (
                        (expected.get(s.pk, 0.0) + backlog.get(s.pk, 0)) * share[s.pk] / 3600,
                        targets[s.pk],
                    )
                    for s in group.services
                ]
                rate = sum(r for r, _t in demand)
                mean_s = (
                    sum(r * means[s.pk] for (r, _t), s in zip(demand, group.services, strict=True))
                    / rate
                    if rate
                    else 0.0
                )
                if day == today:
                    planned_ids = open_now & set(group.window_ids)
                else:
                    planned_ids = _last_seen(seen, day, start.hour) & set(group.window_ids)
                advice.groups.append(
                    GroupHour(
                        group=group,
                        arrivals=sum(expected.get(s.pk, 0.0) * share[s.pk] for s in group.services),
                        needed=windows_needed(demand, mean_s),
                        planned=len(planned_ids),
                        waiting=sum(backlog.get(s.pk, 0) * share[s.pk] for s in group.services),
                        priority_open=len(planned_ids & set(group.priority_ids)),
                    )
                )
            _net(advice.groups)
            hours.append(advice)
    return StaffingPlan(
        hall=hall,
        hours=hours,
        weights=forecast.weights,
        has_history=bool(hours) or not unsupported,
        history_days=len(forecast.recorded),
        unsupported_days=unsupported,
        days=list(days),
    )


def _net(groups: list[GroupHour]) -> None:
    """Let the spare windows of a group cover the shortfall of a group sharing one of
    its services (they call that service's visitors anyway), before either is advised
    to close or open a window: the hour's lines then never contradict each other."""
    for short in groups:
        for spare in groups:
            need = short.shortfall - short.covered
            if need <= 0:
                break
            shared = {s.pk for s in short.group.services} & {s.pk for s in spare.group.services}
            if spare is short or not shared:
                continue
            lend = min(need, spare.surplus - spare.lent)
            if lend > 0:
                short.covered += lend
                spare.lent += lend


def _history(
    hall: Hall, *, days: list[dt.date], today: dt.date, at: dt.datetime
) -> tuple[Forecast, dict[tuple[dt.date, int], set[int]]]:
    """The forecast and the windows seen, which read only days before today: cached
    until HISTORY_CACHE_S, so a board refreshed on every ticket does not aggregate
    weeks of tickets each time (2 queries when not cached)."""
    key = f"staffing:history:{hall.pk}:{today.isoformat()}:" + ",".join(d.isoformat() for d in days)
    found = cache.get(key)
    if found is not None:
        return found
    history = (
        forecast_arrivals(hall, days=days, at=at),
        _windows_seen(hall, since=today - dt.timedelta(weeks=2), until=today),
    )
    cache.set(key, history, HISTORY_CACHE_S)
    return history


def _last_seen(seen: dict[tuple[dt.date, int], set[int]], day: dt.date, hour: int) -> set[int]:
    for weeks in (1, 2):
        past = seen.get((day - dt.timedelta(weeks=weeks), hour))
        if past is not None:
            return past
    return set()


def today_plan(
    hall: Hall, *, at: dt.datetime | None = None, waiting: dict[int, int] | None = None
) -> StaffingPlan:
    """The advice for the rest of today, as the board shows it; `waiting`: the tickets
    waiting now per service id (the board has counted them already)."""
    now = at or timezone.now()
    return staffing_plan(
        hall, days=[hall.business_date(now)], at=now, from_now=True, waiting=waiting
    )


def next_week_plan(hall: Hall, *, at: dt.datetime | None = None) -> StaffingPlan:
    """The advice for every opening hour of next week (Monday to Sunday)."""
    now = at or timezone.now()
    today = hall.business_date(now)
    monday = today + dt.timedelta(days=7 - today.weekday())
    return staffing_plan(hall, days=[monday + dt.timedelta(days=d) for d in range(7)], at=now)
