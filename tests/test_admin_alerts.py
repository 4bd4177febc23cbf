"""The operations layer in the admin: each hall's alert thresholds edited there, alerts
and their transitions shown but never changed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from hall_ops.alerts.services import alert_raise
from hall_ops.models import Alert, AlertRules
from tests.conftest import login


@pytest.fixture
def admin_client(city) -> Client:
    client = login(User.objects.create_superuser("root", "root@example.org", "pw"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def alert(city) -> Alert:
    return alert_raise(
        hall=city.h1, kind=Alert.Kind.IDLE_WINDOW, key="idle:w1", severity=2, window=city.w1
    )


def test_it_edits_a_hall_s_thresholds(admin_client, city):
    response = admin_client.post(
        "/admin/hall_ops/alertrules/add/",
        {
            "hall": city.h1.pk,
            "long_wait_enabled": "on",
            "elderly_enabled": "on",
            "repeat_visit_days": 14,
            "idle_window_min": 8,
            "escalate_after_min": 3,
        },
    )
    assert response.status_code == 302
    rules = AlertRules.objects.get(hall=city.h1)
    assert (rules.repeat_visit_days, rules.idle_window_min, rules.escalate_after_min) == (14, 8, 3)
    assert not rules.repeat_visit_enabled
    bad = admin_client.post(
        f"/admin/hall_ops/alertrules/{rules.pk}/change/",
        {"hall": city.h1.pk, "repeat_visit_days": 0, "idle_window_min": 8, "escalate_after_min": 3},
    )
    assert bad.status_code == 200 and "errornote" in bad.content.decode()
    assert AlertRules.objects.get(pk=rules.pk).repeat_visit_days == 14


def test_it_shows_alerts_and_transitions_read_only(admin_client, alert):
    for path in (
        "/admin/hall_ops/alert/",
        f"/admin/hall_ops/alert/{alert.pk}/change/",
        "/admin/hall_ops/alerttransition/",
        "/admin/hall_ops/alertrules/",
    ):
        assert admin_client.get(path).status_code == 200, path
    assert admin_client.get("/admin/hall_ops/alert/add/").status_code == 403
    response = admin_client.post(
        f"/admin/hall_ops/alert/{alert.pk}/change/", {"state": "resolved", "severity": 1}
    )
    assert response.status_code == 403
    assert admin_client.post(f"/admin/hall_ops/alert/{alert.pk}/delete/").status_code == 403
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.state == Alert.State.OPEN and fresh.severity == 2


def test_it_keeps_staff_out_of_the_admin(city):
    for user in (city.alice, city.dave):
        response = login(user).get("/admin/hall_ops/alertrules/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
