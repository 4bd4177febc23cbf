"""API tokens for external systems (queue systems, kiosks): create, verify, revoke.

A key is shown once, when it is created; the database keeps only its SHA-256 and a
short prefix to recognise it by in the admin. A stolen database therefore yields no
usable key, and a key is looked up by its hash (an indexed, unique column).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from queueing.models import ApiToken, Hall

KEY_PREFIX_LENGTH = 8
# `last_used_at` is written at most this often per token: a kiosk calling every second
# should not turn every read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# The demo's hall simulator (queueing.simulation.live) drives its halls with a token of
# this name: a window of such a hall that no person has is a simulated one.
SIMULATOR_TOKEN_NAME = "hall simulator"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def assign_new_key(token: ApiToken) -> str:
    """Give an unsaved token a fresh key; return the key, which is never stored."""
    key = secrets.token_urlsafe(32)
    token.key_prefix = key[:KEY_PREFIX_LENGTH]
    token.key_hash = key_hash(key)
    return key


def api_token_create(*, name: str, halls: Iterable[Hall]) -> tuple[ApiToken, str]:
    """Make a token for `halls`; return it with its key, which is never stored."""
    token = ApiToken(name=name)
    key = assign_new_key(token)
    with transaction.atomic():
        token.save()
        token.halls.set(list(halls))
    return token, key


def api_token_verify(key: str, *, at: dt.datetime | None = None) -> ApiToken | None:
    """The live token with this key, or None (unknown or revoked). Marks it used."""
    if not key:
        return None
    now = at or timezone.now()
    token = ApiToken.objects.filter(key_hash=key_hash(key), revoked_at__isnull=True).first()
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, token: ApiToken, at: dt.datetime | None = None) -> ApiToken:
    """Refuse the token from now on. Revoking twice keeps the first time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=at or timezone.now()
    )
    token.refresh_from_db(fields=["revoked_at"])
    return token
