"""The demo city: three Shenzhen service halls, six city-wide services, their windows
and one login per role. Everything here is fixed; only the day's history is random."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db.models import ProtectedError
from django.urls import reverse

from queueing.models import (
    Hall,
    HallService,
    Service,
    StaffRole,
    Ticket,
    TicketCounter,
    TicketEvent,
    Visitor,
    Window,
)

R = StaffRole.Role
C = Service.Category

DEMO_PASSWORD = "demo"  # noqa: S105 - published in the README; load_demo refuses DEBUG off


@dataclass(frozen=True)
class ServiceSpec:
    prefix: str
    code: str
    name_zh: str
    name_en: str
    category: str
    target_wait_min: int
    minutes: tuple[float, float]  # typical service time, low and high
    share: float  # share of the visitors who take this service


SERVICES = (
    ServiceSpec("A", "pension", "养老保险", "Pensions", C.PENSION, 20, (7, 15), 0.25),
    ServiceSpec(
        "B",
        "social-registration",
        "社保登记",
        "Social insurance registration",
        C.SOCIAL_INSURANCE,
        15,
        (4, 9),
        0.22,
    ),
    ServiceSpec(
        "C", "medical", "医疗保险", "Medical insurance", C.MEDICAL_INSURANCE, 20, (5, 11), 0.2
    ),
    ServiceSpec(
        "D",
        "employment",
        "就业失业",
        "Employment and unemployment",
        C.EMPLOYMENT,
        25,
        (8, 18),
        0.15,
    ),
    ServiceSpec("E", "consultation", "综合咨询", "General enquiries", C.OTHER, 10, (2, 5), 0.13),
    ServiceSpec(
        "F",
        "injury-maternity",
        "工伤生育",
        "Work injury and maternity",
        C.SOCIAL_INSURANCE,
        30,
        (10, 20),
        0.05,
    ),
)
SERVICE_BY_PREFIX = {spec.prefix: spec for spec in SERVICES}


@dataclass(frozen=True)
class WindowSpec:
    label: str
    skills: str  # service prefixes
    plan: str  # how its day goes: see queueing.demo.day.WINDOW_PLANS
    priority: bool = False
    clerk: int = 0  # 1 or 2: the hall's clerk login that works here


@dataclass(frozen=True)
class HallSpec:
    code: str
    name: str
    name_en: str
    district: str
    capacity: int
    services: str
    windows: tuple[WindowSpec, ...]
    latitude: float  # where the hall is: for pointing visitors to a nearby hall
    longitude: float


W = WindowSpec
HALLS = (
    HallSpec(
        "futian",
        "福田区社保服务大厅",
        "Futian District Social Insurance Service Hall",
        "福田区",
        260,
        "ABCDEF",
        (
            W("01", "ABCDEF", "all_day", priority=True),
            W("02", "A", "all_day", clerk=1),
            W("03", "A", "all_day"),
            W("04", "AB", "all_day", clerk=2),
            W("05", "B", "all_day"),
            W("06", "BC", "late"),
            W("07", "C", "all_day"),
            W("08", "C", "break"),
            W("09", "D", "all_day"),
            W("10", "DE", "all_day"),
            W("11", "E", "closed_early"),
            W("12", "FA", "all_day"),
            W("13", "B", "closed"),
        ),
        22.541,
        114.058,
    ),
    HallSpec(
        "nanshan",
        "南山区人社服务大厅",
        "Nanshan District Human Resources and Social Security Service Hall",
        "南山区",
        200,
        "ABCDE",
        (
            W("01", "ABCDE", "all_day", priority=True),
            W("02", "A", "all_day", clerk=1),
            W("03", "AC", "all_day"),
            W("04", "B", "all_day", clerk=2),
            W("05", "BC", "break"),
            W("06", "C", "all_day"),
            W("07", "D", "all_day"),
            W("08", "E", "all_day"),
            W("09", "DE", "late"),
            W("10", "A", "closed"),
        ),
        22.533,
        113.93,
    ),
    HallSpec(
        "luohu",
        "罗湖区就业服务大厅",
        "Luohu District Employment Service Hall",
        "罗湖区",
        150,
        "BCDEF",
        (
            W("01", "BCDEF", "all_day", priority=True),
            W("02", "D", "all_day", clerk=1),
            W("03", "D", "all_day", clerk=2),
            W("04", "DE", "break"),
            W("05", "B", "all_day"),
            W("06", "BC", "all_day"),
            W("07", "E", "all_day"),
            W("08", "F", "closed_early"),
        ),
        22.548,
        114.131,
    ),
)
HALL_CODES = tuple(spec.code for spec in HALLS)


@dataclass(frozen=True)
class Login:
    username: str
    role: str  # a StaffRole.Role value, or "admin"
    hall: str  # a hall code, "all" for the director and the administrator
    full_name: str = ""


def _logins() -> tuple[Login, ...]:
    names = {
        "futian": ("王丽", "陈伟", "刘洋", "赵静"),
        "nanshan": ("李娜", "黄磊", "周婷", "吴强"),
        "luohu": ("孙敏", "郑浩", "冯雪", "何军"),
    }
    logins = []
    for code in HALL_CODES:
        manager, clerk1, clerk2, floor = names[code]
        logins += [
            Login(f"{code}-manager", R.MANAGER, code, manager),
            Login(f"{code}-clerk1", R.CLERK, code, clerk1),
            Login(f"{code}-clerk2", R.CLERK, code, clerk2),
            Login(f"{code}-floor", R.FLOOR, code, floor),
            Login(f"{code}-kiosk", R.KIOSK, code),
        ]
    logins += [Login("director", R.DIRECTOR, "all", "林国华"), Login("admin", "admin", "all")]
    return tuple(logins)


LOGINS = _logins()
USERNAMES = tuple(login.username for login in LOGINS)


def demo_halls() -> list[Hall]:
    return list(Hall.objects.filter(code__in=HALL_CODES).order_by("code"))


def build_city(*, opens_at: dt.time, closes_at: dt.time) -> list[Hall]:
    """Create (or bring back to spec) the halls, services, windows and logins.

    Rows that exist already are kept; running it twice changes nothing. The opening
    hours are set every time: a demo loaded outside 09:00-17:00 moves them (see
    queueing.demo.day.demo_day).
    """
    services = {
        spec.prefix: Service.objects.get_or_create(
            code=spec.code,
            defaults={
                "prefix": spec.prefix,
                "name_zh": spec.name_zh,
                "name_en": spec.name_en,
                "category": spec.category,
                "target_wait_min": spec.target_wait_min,
            },
        )[0]
        for spec in SERVICES
    }
    halls = []
    for spec in HALLS:
        hall, _created = Hall.objects.update_or_create(
            code=spec.code,
            defaults={
                "opens_at": opens_at,
                "closes_at": closes_at,
                "latitude": Decimal(str(spec.latitude)),
                "longitude": Decimal(str(spec.longitude)),
            },
            create_defaults={
                "latitude": Decimal(str(spec.latitude)),
                "longitude": Decimal(str(spec.longitude)),
                "name": spec.name,
                "name_en": spec.name_en,
                "district": spec.district,
                "capacity": spec.capacity,
                "timezone": "Asia/Shanghai",
                "opens_at": opens_at,
                "closes_at": closes_at,
            },
        )
        for prefix in spec.services:
            HallService.objects.get_or_create(hall=hall, service=services[prefix])
        for wspec in spec.windows:
            window, created = Window.objects.get_or_create(
                hall=hall, label=wspec.label, defaults={"is_priority": wspec.priority}
            )
            if created:
                window.skills.set([services[p] for p in wspec.skills])
        halls.append(hall)
    _build_logins({hall.code: hall for hall in halls})
    return halls


def _build_logins(halls: dict[str, Hall]) -> None:
    # One hash for all: hashing is slow on purpose, and these passwords are public anyway.
    password = make_password(DEMO_PASSWORD)
    for login in LOGINS:
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = User(username=login.username, password=password)
        first, last = (login.full_name[1:], login.full_name[:1]) if login.full_name else ("", "")
        user.first_name, user.last_name = first, last
        user.is_staff = user.is_superuser = login.role == "admin"
        user.save()
        scope = list(halls.values()) if login.hall == "all" else [halls[login.hall]]
        if login.role != "admin":
            for hall in scope:
                StaffRole.objects.get_or_create(user=user, hall=hall, role=login.role)


def start_page(login: Login) -> str:
    """The page to open first after logging in as `login`."""
    if login.role == "admin":
        return reverse("admin:index")
    if login.role == R.DIRECTOR:
        return reverse("ops:overview")  # every hall of their scope, live
    if login.role == R.MANAGER:
        return reverse("ops:board", kwargs={"code": login.hall})
    if login.role == R.FLOOR:
        return reverse("ops:tablet", kwargs={"code": login.hall})
    if login.role == R.KIOSK:
        return reverse("queueing:kiosk", kwargs={"code": login.hall})
    if login.role == R.CLERK:
        number = int(login.username[-1])
        spec = next(s for s in HALLS if s.code == login.hall)
        label = next(w.label for w in spec.windows if w.clerk == number)
        window = Window.objects.filter(hall__code=login.hall, label=label).first()
        if window is not None:
            return reverse("queueing:console", kwargs={"window_id": window.pk})
    return reverse("queueing:hall", kwargs={"code": login.hall})


def clerk_for(hall: Hall, number: int) -> User | None:
    return User.objects.filter(username=f"{hall.code}-clerk{number}").first() if number else None


def wipe_demo() -> int:
    """Delete the demo's rows (halls, their tickets and events, logins, services no
    other hall uses). Returns how many tickets went. Other halls are left alone."""
    halls = Hall.objects.filter(code__in=HALL_CODES)
    tickets = Ticket.objects.filter(hall__in=halls)
    visitor_ids = set(tickets.exclude(visitor=None).values_list("visitor_id", flat=True))
    try:
        count = tickets.count()
        TicketEvent.objects.filter(hall__in=halls).delete()
        tickets.delete()
        Visitor.objects.filter(pk__in=visitor_ids, tickets=None).delete()
        TicketCounter.objects.filter(hall__in=halls).delete()
        halls.delete()
        User.objects.filter(username__in=USERNAMES).delete()
        Service.objects.filter(
            code__in=[spec.code for spec in SERVICES], hall_services=None, tickets=None
        ).delete()
    except ProtectedError as exc:
        raise DemoError(f"cannot wipe the demo: other rows still point at it ({exc})") from None
    return count


class DemoError(Exception):
    """The demo cannot be loaded or wiped; the message says why."""
