"""The pages' security headers, and a production start that passes check --deploy."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import login
from tests.test_settings import PRODUCTION, start

SETUP = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'hall_ops.settings'; django.setup();"
)


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/docs"])
def test_every_page_carries_a_csp_that_forbids_inline_script(db, path):
    response = Client().get(path)
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in directives["script-src"]


def test_the_report_s_print_button_has_no_inline_handler(city):
    response = login(city.alice).get(f"/halls/{city.h1.code}/report/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-print" in body and "onclick=" not in body
    assert "js/report.js" in body


def test_every_page_turns_off_the_browser_features_it_never_uses(db):
    response = Client().get("/accounts/login/")
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_production_settings_pass_check_deploy_at_warning_level():
    env = {
        **PRODUCTION,
        "ALLOWED_HOSTS": "hall.example.gov.cn",
        "SECRET_KEY": "a-real-secret-key-for-production-use-0123456789-abcdefghijklmnop",
    }
    result = start(
        env,
        SETUP + "from django.core.management import call_command;"
        " call_command('check', '--deploy', '--fail-level', 'WARNING')",
    )
    assert result.returncode == 0, result.stderr


def test_production_redirects_to_https_and_sends_hsts():
    env = {
        **PRODUCTION,
        "ALLOWED_HOSTS": "hall.example.gov.cn",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    }
    code = (
        SETUP + "from django.test import Client; c = Client();"
        "r = c.get('/accounts/login/', HTTP_HOST='hall.example.gov.cn');"
        "print(r.status_code, r['Location']);"
        "r = c.get('/accounts/login/', HTTP_HOST='hall.example.gov.cn',"
        " HTTP_X_FORWARDED_PROTO='https');"
        "print(r.get('Strict-Transport-Security'))"
    )
    result = start(env, code)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()[-2:]
    assert first == "301 https://hall.example.gov.cn/accounts/login/"
    assert second == "max-age=31536000; includeSubDomains; preload"
