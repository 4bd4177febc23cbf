"""Personas shared by the whole suite.

Hall `h1` offers pensions (A) and social insurance (B) at windows W01 (A, B), W02 (A)
and the priority window W03 (A, B). alice manages h1, bob clerks there, carol is h1's
floor staff, kiosk1 is h1's ticket machine, dave directs h1 and h2, and eve manages h2,
"another hall", for every negative test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from queueing.estimation.distributions import forget_hall_models
from queueing.models import Hall, Service, StaffRole, Window
from tests.factories import make_hall, make_service, make_user, make_window, offer

R = StaffRole.Role


@dataclass
class City:
    h1: Hall
    h2: Hall
    pension: Service
    social: Service
    w1: Window
    w2: Window
    w3: Window
    h2_window: Window
    alice: User
    bob: User
    carol: User
    dave: User
    eve: User
    kiosk1: User


@pytest.fixture(autouse=True)
def english_messages():
    """Code called directly speaks English, so tests can read its messages; a request
    through the client still gets the language LocaleMiddleware picks (zh-hans unless
    the client asks otherwise)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_estimator_models():
    """The wait estimator caches each hall's model by hall id and instant; ids repeat
    from test to test, so every test starts (and leaves) without one."""
    forget_hall_models()
    yield
    forget_hall_models()


@pytest.fixture
def fresh_cache():
    """An empty cache before and after (neighbours' estimates, staffing history)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def city(db) -> City:
    h1 = make_hall("h1", name="第一服务大厅", name_en="First Hall")
    h2 = make_hall("h2", name="第二服务大厅", name_en="Second Hall")
    pension = make_service(
        "A",
        code="pension",
        name_zh="养老保险",
        name_en="Pensions",
        category=Service.Category.PENSION,
        target_wait_min=20,
    )
    social = make_service(
        "B",
        code="social",
        name_zh="社会保险",
        name_en="Social insurance",
        category=Service.Category.SOCIAL_INSURANCE,
        target_wait_min=15,
    )
    offer(h1, pension, social)
    offer(h2, pension, social)
    return City(
        h1=h1,
        h2=h2,
        pension=pension,
        social=social,
        w1=make_window(h1, "W01", [pension, social]),
        w2=make_window(h1, "W02", [pension]),
        w3=make_window(h1, "W03", [pension, social], is_priority=True),
        h2_window=make_window(h2, "W01", [pension, social]),
        alice=make_user("alice", (h1, R.MANAGER)),
        bob=make_user("bob", (h1, R.CLERK)),
        carol=make_user("carol", (h1, R.FLOOR)),
        dave=make_user("dave", (h1, R.DIRECTOR), (h2, R.DIRECTOR)),
        eve=make_user("eve", (h2, R.MANAGER)),
        kiosk1=make_user("kiosk1", (h1, R.KIOSK)),
    )


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
