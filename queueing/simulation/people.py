"""Made-up but valid national ID numbers for simulated visitors. They only ever go to
the kiosk (ticket_issue), which keeps a keyed hash and a masked form."""

from __future__ import annotations

import datetime as dt
import random

from queueing.national_id import check_char

# Districts of Shenzhen, and a few provinces people move to Shenzhen from.
REGIONS = ("440303", "440304", "440305", "440306", "440307", "430102", "360102", "420106")


def national_id(birth: dt.date, region: str = "440305", serial: str = "123") -> str:
    """A valid 18-character ID number born on `birth` (the check character computed)."""
    first17 = f"{region}{birth:%Y%m%d}{serial}"
    return first17 + check_char(first17)


def national_id_for(age: int, on: dt.date, rng: random.Random) -> str:
    """Someone `age` years old on `on` (their birthday 10 to 350 days ago)."""
    birth = on - dt.timedelta(days=age * 365 + age // 4 + rng.randint(10, 350))
    return national_id(birth, rng.choice(REGIONS), f"{rng.randint(0, 999):03d}")
