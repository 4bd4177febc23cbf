"""Resident identity numbers (GB 11643-1999): validate, then keep only what is allowed.

The raw number lives only inside `parse_national_id` and the caller's request; what
leaves is a keyed HMAC (to recognise the same person again), the birth date and a
masked form. Nothing here logs or raises the number itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

# Weights 2^(17-i) mod 11 for positions 1..17 (ISO 7064 MOD 11-2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# First two digits: province-level division codes in use.
_PROVINCES = frozenset(
    ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36")
    + ("37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62")
    + ("63", "64", "65", "71", "81", "82", "83", "91")
)


class NationalIdError(ValueError):
    """The number is not a valid identity number; the message says why, not what it was."""


@dataclass(frozen=True)
class NationalId:
    id_hmac: str
    masked: str
    birth_date: dt.date

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_national_id(raw: str, *, today: dt.date | None = None) -> NationalId:
    """Validate an 18-character number and return its pseudonymous parts.

    Raises NationalIdError with a message naming what is wrong.
    """
    value = raw.strip().upper().replace(" ", "")
    if len(value) != 18:
        raise NationalIdError(
            _("An ID number has 18 characters; this one has %(n)d.") % {"n": len(value)}
        )
    if not _SHAPE.match(value):
        raise NationalIdError(
            _("The first 17 characters must be digits and the last a digit or X.")
        )
    if value[:2] not in _PROVINCES:
        raise NationalIdError(_("The first two digits are not a province code."))
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise NationalIdError(
            _("Characters 7 to 14 are not a real birth date (YYYYMMDD).")
        ) from None
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date, no instant
    if birth > today or birth.year < 1900:
        raise NationalIdError(_("The birth date in characters 7 to 14 is out of range."))
    if check_char(value[:17]) != value[17]:
        raise NationalIdError(
            _("The check character (the 18th) does not match: the number has a typo.")
        )
    return NationalId(id_hmac=id_hmac(value), masked=mask(value), birth_date=birth)


def id_hmac(value: str) -> str:
    key = settings.VISITOR_ID_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask(value: str) -> str:
    return f"{value[:4]}{'*' * 10}{value[-4:]}"
