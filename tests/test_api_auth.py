"""Tokens, their scope, the token command, and the published schema and docs."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from queueing.models import ApiToken, Ticket, TicketEvent, Window
from queueing.services import ticket_issue
from queueing.tokens import api_token_revoke
from tests.api_support import API, ApiClient, routes, token_client


@pytest.fixture
def ticket(city):
    return ticket_issue(hall=city.h1, service=city.pension)


def _routes(city, ticket):
    return routes(city.h1, ticket, city.w1)


def _snapshot():
    return (
        list(Ticket.objects.values_list("id", "status", "service_id", "window_id")),
        TicketEvent.objects.count(),
        list(Window.objects.values_list("id", "status")),
    )


def test_it_refuses_every_route_without_a_token(city, ticket):
    before = _snapshot()
    for method, path, body in _routes(city, ticket):
        response = ApiClient(key=None).call(method, path, body)
        assert response.status_code == 401, (method, path)
        assert response["WWW-Authenticate"] == "Bearer"
        assert "Bearer" in response.json()["detail"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer ", "Token abc", "Basic YWxpY2U6cHc=", "bearer"]
)
def test_it_refuses_a_bad_authorization_header(city, header):
    response = Client().get(f"{API}/halls/h1/state", headers={"Authorization": header})
    assert response.status_code == 401


def test_it_refuses_every_route_with_a_revoked_token(city, ticket):
    api = token_client(city.h1)
    assert api.get("/halls/h1/state").status_code == 200
    api_token_revoke(token=api.token)
    before = _snapshot()
    for method, path, body in _routes(city, ticket):
        assert api.call(method, path, body).status_code == 401, (method, path)
    assert _snapshot() == before


def test_it_forbids_every_route_to_a_token_of_another_hall(city, ticket):
    other = token_client(city.h2)
    before = _snapshot()
    for method, path, body in _routes(city, ticket):
        response = other.call(method, path, body)
        assert response.status_code == 403, (method, path, response.content)
        assert "h1" in response.json()["detail"]
    assert _snapshot() == before


def test_it_lets_a_token_of_two_halls_act_on_both(city):
    api = token_client(city.h1, city.h2)
    assert api.get("/halls/h1/state").status_code == 200
    assert api.get("/halls/h2/state").status_code == 200


def test_it_answers_404_for_unknown_halls_tickets_and_windows(city):
    api = token_client(city.h1)
    assert api.get("/halls/nowhere/state").status_code == 404
    assert api.post("/halls/nowhere/tickets", {"service": "A"}).status_code == 404
    assert api.get("/tickets/999999").json() == {"detail": "No such ticket."}
    assert api.post("/tickets/999999/start").status_code == 404
    assert api.get("/windows/999999").status_code == 404
    assert api.post("/windows/999999/call-next").status_code == 404


def test_it_marks_when_a_token_was_last_used(city):
    api = token_client(city.h1)
    assert api.token.last_used_at is None
    api.get("/halls/h1/state")
    api.token.refresh_from_db()
    assert api.token.last_used_at is not None
    assert timezone.now() - api.token.last_used_at < dt.timedelta(seconds=10)


def test_it_keeps_only_a_hash_and_a_short_prefix_of_the_key(city):
    api = token_client(city.h1)
    assert api.key is not None
    row = ApiToken.objects.get(pk=api.token.pk)
    assert len(api.key) >= 40
    assert row.key_prefix == api.key[:8]
    assert api.key not in row.key_hash
    assert not ApiToken.objects.filter(key_hash=api.key).exists()
    assert api.key[:8] in str(row)


def test_it_needs_no_csrf_token(city):
    api = token_client(city.h1)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/halls/h1/tickets",
        data={"service": "A"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 201


def test_it_creates_a_token_from_the_command_and_shows_the_key_once(city):
    out = io.StringIO()
    call_command("create_api_token", "central queue", "--hall", "h1", "--hall", "h2", stdout=out)
    text = out.getvalue()
    token = ApiToken.objects.get(name="central queue")
    assert sorted(token.halls.values_list("code", flat=True)) == ["h1", "h2"]
    keys = [w for w in text.split() if w.startswith(token.key_prefix) and len(w) >= 40]
    assert len(keys) == 1
    assert "not be shown again" in text
    api = ApiClient(key=keys[0])
    assert api.get("/halls/h2/state").status_code == 200


def test_it_refuses_to_create_a_token_for_an_unknown_hall(city):
    with pytest.raises(CommandError, match="nowhere"):
        call_command("create_api_token", "x", "--hall", "h1", "--hall", "nowhere")
    with pytest.raises(CommandError, match="--hall"):
        call_command("create_api_token", "x")
    assert not ApiToken.objects.exists()


def test_it_serves_the_openapi_schema_with_every_route(city, ticket):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    for method, path, _body in routes(city.h1, ticket, city.w1):
        template = re.sub(r"/tickets/\d+", "/tickets/{ticket_id}", path)
        template = re.sub(r"/windows/\d+", "/windows/{window_id}", template)
        template = template.replace("/halls/h1/", "/halls/{hall}/")
        assert (method, API + template) in documented
    # plus the vision worker's three routes (tested in tests/test_vision_api.py)
    vision = {(m, p) for m, p in documented if p.startswith(f"{API}/vision/")}
    assert len(vision) == 3
    assert len(documented) == len(routes(city.h1, ticket, city.w1)) + len(vision)
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    call_next = schema["paths"][f"{API}/windows/{{window_id}}/call-next"]["post"]
    assert "null" in call_next["description"]


def test_it_serves_the_docs_with_every_asset_local(city):
    page = Client().get(f"{API}/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for url in assets:
        assert url.startswith("/static/"), url
        assert Client().get(url).status_code == 200, url
    assert "https://" not in html and "http://" not in html
    assert '"validatorUrl": null' in html


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/halls/h1/nothing/here", "/api/v1/"])
def test_an_unknown_api_route_answers_a_json_404(db, path):
    response = Client().get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"].startswith("No such API endpoint")
