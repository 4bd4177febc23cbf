"""Login lockout (django-axes): a password guesser is stopped, a forged
X-Forwarded-For neither locks someone else out nor dodges the lock, and the lock
lifts by itself after the cool-off."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

LOGIN = "/accounts/login/"


def attempt(password: str, *, remote: str = "10.0.0.5", xff: str | None = None, user="bob"):
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(LOGIN, {"username": user, "password": password}, **extra)
    return response, client


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def guess_until_locked(**kw) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong-guess", **kw)


def test_it_locks_after_the_failure_limit_and_refuses_even_the_right_password(city):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response, _client = attempt("wrong-guess")
        assert response.status_code == 200  # the login form again, with its error
    attempt("wrong-guess")
    response, client = attempt("pw")
    assert response.status_code == 429
    assert not logged_in(client)
    body = response.content.decode()
    assert "locked" in body and f"{settings.AXES_FAILURE_LIMIT}" in body


def test_the_lockout_page_is_translated(city):
    guess_until_locked()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post(LOGIN, {"username": "bob", "password": "pw"}, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 429
    assert "已锁定" in response.content.decode()


def test_a_success_before_the_limit_resets_the_count(city):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt("wrong-guess")
    assert logged_in(attempt("pw")[1])
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt("wrong-guess")
    assert logged_in(attempt("pw")[1])


def test_the_lock_holds_only_the_guessing_address_not_the_account(city):
    guess_until_locked(remote="203.0.113.9")
    assert not logged_in(attempt("pw", remote="203.0.113.9")[1])
    # bob at his own window, from another address, still logs in
    assert logged_in(attempt("pw", remote="10.0.0.5")[1])


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(city, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    # the attacker forges bob's address: the lock falls on the attacker's own address
    guess_until_locked(remote="203.0.113.9", xff="10.0.0.5")
    assert logged_in(attempt("pw", remote="10.0.0.5")[1])
    # and changing the forged header on each try does not dodge the lock
    assert not logged_in(attempt("pw", remote="203.0.113.9", xff="198.51.100.77")[1])


def test_behind_one_proxy_only_the_entry_the_proxy_wrote_counts(city, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "172.16.0.2"
    # the client forged a first entry; our proxy appended the real one (203.0.113.9)
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong-guess", remote=proxy, xff=f"10.0.0.{n}, 203.0.113.9")
    response, client = attempt("pw", remote=proxy, xff="10.9.9.9, 203.0.113.9")
    assert response.status_code == 429 and not logged_in(client)
    # bob, who really is at 10.0.0.5, is not locked out by the forged entries
    assert logged_in(attempt("pw", remote=proxy, xff="10.0.0.5")[1])


def test_the_lock_lifts_after_the_cool_off(city):
    guess_until_locked()
    assert attempt("pw")[0].status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert logged_in(attempt("pw")[1])


@pytest.mark.parametrize("count", [1, 2])
def test_client_ip_reads_the_outermost_trusted_proxys_entry(rf, settings, count):
    from hall_ops.login_guard import client_ip

    settings.TRUSTED_PROXY_COUNT = count
    hops = ["6.6.6.6", "203.0.113.9", "172.16.0.9"][: 1 + count]
    request = rf.get("/", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR=", ".join(hops))
    assert client_ip(request) == hops[-count]
    # a request that skipped the proxies, or a garbled entry: the peer's address
    assert client_ip(rf.get("/", REMOTE_ADDR="172.16.0.2")) == "172.16.0.2"
    garbled = rf.get("/", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="x, y, z")
    assert client_ip(garbled) == "172.16.0.2"
