"""The administrator's screens: who gets in, API tokens made and revoked there, windows
switched through the services, and tickets that cannot be edited."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from queueing.models import ApiToken, Ticket, Window
from queueing.services import ticket_call_next, ticket_issue
from queueing.tokens import api_token_create, key_hash
from tests.api_support import ApiClient
from tests.conftest import login
from tests.factories import make_service


@pytest.fixture
def admin_client(city) -> Client:
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    client = login(root)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


ADMIN_PAGES = [
    "/admin/",
    "/admin/queueing/hall/",
    "/admin/queueing/service/",
    "/admin/queueing/window/",
    "/admin/queueing/staffrole/",
    "/admin/queueing/apitoken/",
    "/admin/queueing/apitoken/add/",
    "/admin/queueing/ticket/",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_it_sends_anyone_but_an_administrator_to_the_admin_login(city, path):
    for client in (Client(), login(city.alice), login(city.dave)):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_it_shows_every_admin_page_to_an_administrator(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_it_makes_a_token_shows_its_key_once_and_keeps_only_the_hash(admin_client, city):
    response = admin_client.post(
        "/admin/queueing/apitoken/add/",
        {"name": "old queue system", "halls": [city.h1.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = re.search(r"is ([A-Za-z0-9_-]{40,})\. Copy it now", response.content.decode())
    assert shown, response.content.decode()[:2000]
    key = shown.group(1)

    token = ApiToken.objects.get(name="old queue system")
    assert token.key_hash == key_hash(key)
    assert key not in {token.key_hash, token.key_prefix}
    assert list(token.halls.all()) == [city.h1]
    # the key works for its hall and no other, and the token's page never shows it again
    assert ApiClient(key).get("/halls/h1/state").status_code == 200
    assert ApiClient(key).get("/halls/h2/state").status_code == 403
    page = admin_client.get(f"/admin/queueing/apitoken/{token.pk}/change/").content.decode()
    assert key not in page


def test_it_revokes_tokens_from_the_list(admin_client, city):
    token, key = api_token_create(name="kiosk", halls=[city.h1])
    api = ApiClient(key)
    assert api.get("/halls/h1/state").status_code == 200
    response = admin_client.post(
        "/admin/queueing/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "1 tokens revoked." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/halls/h1/state").status_code == 401


def test_it_switches_windows_through_the_services(admin_client, city):
    ticket_issue(hall=city.h1, service=city.pension)
    ticket_call_next(window=city.w1)
    response = admin_client.post(
        "/admin/queueing/window/",
        {"action": "make_closed", "_selected_action": [city.w1.pk, city.w2.pk]},
        follow=True,
    )
    assert response.status_code == 200
    statuses = dict(Window.objects.values_list("label", "status"))
    assert statuses[city.w2.label] == Window.Status.CLOSED
    # w1 still serves someone: the service's rule holds here as everywhere
    assert statuses[city.w1.label] == Window.Status.OPEN
    assert "still holds ticket A001; finish it before closing" in response.content.decode()


def test_it_refuses_a_window_skill_the_hall_does_not_offer(admin_client, city):
    medical = make_service("C", code="medical")
    response = admin_client.post(
        "/admin/queueing/window/add/",
        {"hall": city.h1.pk, "label": "W09", "skills": [medical.pk]},
    )
    assert response.status_code == 200
    assert "Not offered at this hall: C" in response.content.decode()
    assert not Window.objects.filter(label="W09").exists()


def test_it_shows_tickets_but_never_lets_them_be_edited(admin_client, city):
    ticket = ticket_issue(hall=city.h1, service=city.pension)
    page = admin_client.get(f"/admin/queueing/ticket/{ticket.pk}/change/")
    assert page.status_code == 200
    assert ticket.number in page.content.decode()
    assert admin_client.get("/admin/queueing/ticket/add/").status_code == 403
    admin_client.post(f"/admin/queueing/ticket/{ticket.pk}/change/", {"status": "completed"})
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.WAITING
    assert admin_client.post(f"/admin/queueing/ticket/{ticket.pk}/delete/").status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()
