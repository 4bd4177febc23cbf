"""The API never answers with a server error, and every answer keeps to the schema it
publishes: schemathesis draws requests, well-formed and malformed, for every route from
/api/v1/openapi.json and checks each response (status documented, body matching its
schema, JSON content type).

Half of the requests aim at real rows (hall h1, a ticket, a window) so that the services
run, not only the 404s; the ids otherwise drawn are mostly of rows that do not exist.
Answers the schema cannot foresee are left out: a schema-valid body refused by a service
(a 422 for a service the hall does not offer) is the API doing its job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.api_support import API, issue, token_client
from tests.vision_app_support import make_camera, make_zone

SCHEMA = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", get_wsgi_application())


# A WSGI handler closes the database connection when a request finishes, as in
# production; the rows the test made must therefore be committed, not held in a
# transaction that closing the connection would throw away.
pytestmark = pytest.mark.django_db(transaction=True)

# The valid token and the real rows are put back into every request, which may undo the
# very mutation a negative case was drawn for; a refused valid body is a service's
# business rule. Neither says anything about crashes or the schema.
NOT_OURS = [negative_data_rejection, positive_data_acceptance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_it_never_fails_and_keeps_to_its_schema_whatever_it_is_sent(city, mode):
    api = token_client(city.h1)
    headers = {"Authorization": f"Bearer {api.key}"}
    ticket = issue(api, city.h1, "A")
    camera = make_camera(city.h1)  # the vision routes, with a camera this token may use
    make_zone(camera)
    camera.api_tokens.add(api.token)
    real = {"hall": "h1", "ticket_id": ticket["id"], "window_id": city.w1.pk}
    real["camera_id"] = camera.pk

    @given(case=SCHEMA.as_strategy(mode), aim_at_real_rows=st.booleans())
    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, aim_at_real_rows: bool) -> None:
        if aim_at_real_rows:
            for name in case.path_parameters or {}:
                case.path_parameters[name] = real[name]
        case.call_and_validate(headers=headers, excluded_checks=NOT_OURS)

    run()


# Set by the server's clock, so no static schema can state them (each field's description
# does): event times from 2000 to 2 minutes ahead, camera minutes whole and recent.
CLOCK_FIELDS = {"ts", "minute", "last_frame_at"}
# Rules between two fields, which JSON Schema cannot state either (the descriptions do).
BETWEEN_FIELDS = {"Value error, mean must not exceed peak"}


def _on_the_clock(value: Any, now: str) -> Any:
    if isinstance(value, dict):
        return {
            k: now if k in CLOCK_FIELDS and isinstance(v, str) else _on_the_clock(v, now)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_on_the_clock(v, now) for v in value]
    return value


def test_a_schema_valid_body_is_refused_only_by_the_services(city):
    """Every rule the request validation applies is in the published schema: a body
    schemathesis draws as valid passes it. What may still refuse it is a service's
    answer about the rows it names (a prefix no service has, a window of another hall, an
    ID number whose check digit is wrong): a 422 of type `invalid`, or a 404/409."""
    api = token_client(city.h1)
    headers = {"Authorization": f"Bearer {api.key}"}
    ticket = issue(api, city.h1, "A")
    camera = make_camera(city.h1)
    make_zone(camera)
    camera.api_tokens.add(api.token)
    real = {"hall": "h1", "ticket_id": ticket["id"], "window_id": city.w1.pk}
    real["camera_id"] = camera.pk
    minute = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    refused: dict[str, Any] = {}

    @given(case=SCHEMA.as_strategy(GenerationMode.POSITIVE))
    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for name in case.path_parameters or {}:
            case.path_parameters[name] = real[name]
        if isinstance(case.body, dict | list):
            case.body = _on_the_clock(case.body, minute.isoformat())
        response = case.call(headers=headers)
        assert response.status_code < 500
        if response.status_code in (400, 422):
            detail = response.json()["detail"]
            if not isinstance(detail, list):
                detail = [{"type": "body", "msg": detail}]
            rules = [e for e in detail if e["type"] != "invalid" and e["msg"] not in BETWEEN_FIELDS]
            if rules:
                refused.setdefault(case.operation.label, (rules, case.body))

    run()
    assert not refused, refused
