"""Small builders for test data. Each returns saved rows with sensible defaults."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterable

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from queueing.models import Hall, HallService, Service, StaffRole, Window
from queueing.national_id import check_char

_seq = itertools.count(1)


def make_hall(code: str | None = None, **fields: object) -> Hall:
    n = next(_seq)
    code = code or f"h{n}"
    fields.setdefault("name", f"第{n}服务大厅")
    fields.setdefault("name_en", f"Hall {n}")
    return Hall.objects.create(code=code, **fields)


def make_service(prefix: str, **fields: object) -> Service:
    fields.setdefault("code", f"svc-{prefix.lower()}")
    fields.setdefault("name_zh", f"业务{prefix}")
    fields.setdefault("name_en", f"Service {prefix}")
    return Service.objects.get_or_create(prefix=prefix, defaults=fields)[0]


def offer(hall: Hall, *services: Service) -> None:
    for service in services:
        HallService.objects.get_or_create(hall=hall, service=service)


def make_window(
    hall: Hall,
    label: str,
    skills: Iterable[Service],
    *,
    status: str = Window.Status.OPEN,
    **fields: object,
) -> Window:
    window = Window.objects.create(hall=hall, label=label, status=status, **fields)
    window.skills.set(list(skills))
    return window


@functools.cache
def _hashed(password: str) -> str:
    # PBKDF2 costs ~0.3 s a call; the personas share one hash per password.
    return make_password(password)


def make_user(username: str, *roles: tuple[Hall, str], password: str = "pw") -> User:
    user = User.objects.create(username=username, password=_hashed(password))
    for hall, role in roles:
        StaffRole.objects.create(user=user, hall=hall, role=role)
    return user


def national_id(birth: dt.date, region: str = "440305", serial: str = "123") -> str:
    """A valid 18-character number born on `birth` (check character computed)."""
    first17 = f"{region}{birth:%Y%m%d}{serial}"
    return first17 + check_char(first17)


def midday_timezone(now: dt.datetime | None = None) -> str:
    """A fixed-offset zone where it is now between 11:30 and 12:30, so a test whose
    tickets were issued minutes ago never sees them fall on yesterday's business day
    (or a beat's end-of-day job), whatever hour CI runs at."""
    utc = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    offset = 12 - round(utc.hour + utc.minute / 60)  # -11 … +12, all real Etc zones
    if offset == 0:
        return "Etc/GMT"
    # the Etc zones' signs are POSIX-inverted: Etc/GMT-8 is UTC+8
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
