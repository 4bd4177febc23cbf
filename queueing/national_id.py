"""Resident identity numbers (GB 11643-1999): validate, then keep only what is allowed.

The raw number lives only inside `parse_national_id` and the caller's request; what
leaves to be stored is a keyed HMAC (to recognise the same person again), the birth
year and a mask that shows the last two characters. The full birth date stays in
memory, to decide the visitor's age at issue. Nothing here logs or raises the number.

Why so little: the 17 digits before the check character are an area code, a birth date
and a 3-digit sequence, so a mask of 4 + 4 characters beside the birth date left about
nine candidates per visitor. With the birth year and the last two characters, even a
visitor whose birthday is pinned by their tickets' ages stays consistent with tens of
thousands of valid numbers (tests/test_visitor_privacy.py counts them).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from stdnum import numdb

# Weights 2^(17-i) mod 11 for positions 1..17 (ISO 7064 MOD 11-2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Residence permits of Hong Kong, Macao and Taiwan residents (since 2018) share the
# format; Taiwan's permit code 830000 is not a division code, so it is not in the list.
_PERMIT_AREAS = {"810000": None, "820000": None, "830000": None}


@functools.cache
def area_codes() -> dict[str, int | None]:
    """Every area code that has been a county-level division, with the last year it
    existed (None: still in use), from python-stdnum's copy of the GB/T 2260 list.

    Abolished divisions stay: their codes are on cards that are still valid. A code
    first used in year Y is accepted for people born before Y too, because the number
    is given when the first card is made, often years after birth (python-stdnum's own
    `cn.ric.validate` would refuse those).
    """
    codes: dict[str, int | None] = dict(_PERMIT_AREAS)
    for _len, province, _high, _props, counties in numdb.get("cn/loc").prefixes:
        for _clen, county, _chigh, props, _children in counties:
            codes[province + county] = _last_year(props.get("county", ""))
    return codes


@functools.cache
def _provinces() -> frozenset[str]:
    return frozenset(code[:2] for code in area_codes())


def _last_year(periods: str) -> int | None:
    """`[1983-1989]南头区办事处,[1990-]南山区` -> None; `[-2010]崇文区` -> 2010."""
    last = 0
    for period in periods.split(","):
        match = re.match(r"\[(\d*)-(\d*)\]", period)
        if match is None or not match[2]:
            return None  # no period stated, or one still open
        last = max(last, int(match[2]))
    return last


def area_code_valid(code: str, birth_year: int) -> bool:
    """Was `code` a division (or permit) code in some year up to now, and not
    abolished before `birth_year` (nobody is registered where there is no division)?"""
    if code not in area_codes():
        return False
    last = area_codes()[code]
    return last is None or birth_year <= last


class NationalIdError(ValueError):
    """The number is not a valid identity number; the message says why, not what it was."""


# How many trailing characters the stored mask shows (the sequence's last digit and
# the check character): enough for staff to confirm a number with its holder.
MASK_KEEP = 2


@dataclass(frozen=True)
class NationalId:
    id_hmac: str
    masked: str
    # in memory only: the visitor's age at issue needs it; a Visitor keeps the year
    birth_date: dt.date = field(repr=False)

    @property
    def birth_year(self) -> int:
        return self.birth_date.year

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


@sensitive_variables()
def check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


# Every local of these holds the number or part of it: a debug page or an error report
# shows none of them (hall_ops/error_reports.py applies this with DEBUG on too).
@sensitive_variables()
def parse_national_id(raw: str, *, today: dt.date | None = None) -> NationalId:
    """Validate an 18-character number and return its pseudonymous parts.

    A foreigner's permanent residence card (2023) has the same form with "9", the
    province and a 3-digit nationality code in characters 1 to 6: only its province is
    checked.

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
    area = value[:6]
    foreigner = area[0] == "9"  # permanent residence card: 9, province, nationality
    if (area[1:3] if foreigner else area[:2]) not in _provinces():
        raise NationalIdError(_("The first two digits are not a province code."))
    if not foreigner and area not in area_codes():
        raise NationalIdError(
            _("Characters 1 to 6 are not the code of a county or district, now or before.")
        )
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise NationalIdError(
            _("Characters 7 to 14 are not a real birth date (YYYYMMDD).")
        ) from None
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date, no instant
    if birth > today or birth.year < 1900:
        raise NationalIdError(_("The birth date in characters 7 to 14 is out of range."))
    if not foreigner and not area_code_valid(area, birth.year):
        raise NationalIdError(
            _("The area in characters 1 to 6 was abolished before the birth year.")
        )
    if check_char(value[:17]) != value[17]:
        raise NationalIdError(
            _("The check character (the 18th) does not match: the number has a typo.")
        )
    return NationalId(id_hmac=id_hmac(value), masked=mask(value), birth_date=birth)


@sensitive_variables()
def id_hmac(value: str) -> str:
    key = settings.VISITOR_ID_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


@sensitive_variables()
def mask(value: str) -> str:
    """The stored, shown form: `****************3X`."""
    return f"{'*' * (len(value) - MASK_KEEP)}{value[-MASK_KEEP:]}"
