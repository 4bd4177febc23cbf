import datetime as dt
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queueing.national_id import (
    NationalIdError,
    area_code_valid,
    area_codes,
    check_char,
    mask,
    parse_national_id,
)
from tests.factories import national_id

TODAY = dt.date(2026, 11, 23)


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    region = draw(
        st.sampled_from(sorted(c for c in area_codes() if area_code_valid(c, birth.year)))
    )
    serial = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return national_id(birth, region=region, serial=serial)


def test_it_accepts_a_valid_number_and_keeps_only_pseudonymous_parts():
    number = national_id(dt.date(1958, 3, 7))
    parsed = parse_national_id(number, today=TODAY)
    assert parsed.birth_date == dt.date(1958, 3, 7) and parsed.birth_year == 1958
    assert parsed.masked == "*" * 16 + number[-2:]
    assert number not in repr(parsed)
    assert len(parsed.id_hmac) == 64
    assert parsed.age_on(TODAY) == 68


def test_it_accepts_lower_case_x_and_surrounding_spaces():
    first17 = "11010519491231002"
    assert check_char(first17) == "X"
    assert parse_national_id(f" {first17}x ", today=TODAY).masked == "*" * 16 + "2X"


def test_it_counts_age_in_whole_years_before_the_birthday():
    parsed = parse_national_id(national_id(dt.date(1966, 11, 24)), today=TODAY)
    assert parsed.age_on(TODAY) == 59
    assert parsed.age_on(dt.date(2026, 11, 24)) == 60


def test_it_keys_the_hash_so_another_key_gives_another_pseudonym(settings):
    number = national_id(dt.date(1980, 1, 1))
    first = parse_national_id(number, today=TODAY).id_hmac
    settings.VISITOR_ID_KEY = "another-key-of-sufficient-length"
    assert parse_national_id(number, today=TODAY).id_hmac != first


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("4403051958", "18 characters"),
        ("44030519580307123X1", "18 characters"),
        ("4403051958030712AX", "digits"),
        ("X40305195803071234", "digits"),
        ("00030519580307123" + check_char("00030519580307123"), "province"),
        ("44030519580230123" + check_char("44030519580230123"), "birth date"),
        ("44030520991231123" + check_char("44030520991231123"), "out of range"),
        ("44030518991231123" + check_char("44030518991231123"), "out of range"),
    ],
)
def test_it_names_what_is_wrong(raw, reason):
    with pytest.raises(NationalIdError) as exc:
        parse_national_id(raw, today=TODAY)
    assert reason in str(exc.value)
    assert raw not in str(exc.value)


def test_it_says_the_check_character_is_wrong():
    number = national_id(dt.date(1990, 6, 1))
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(NationalIdError, match="check character"):
        parse_national_id(wrong, today=TODAY)


def test_it_masks_all_but_the_last_two_characters():
    assert mask("440305195803071234") == "****************34"


@settings(max_examples=60, deadline=None)
@given(valid_numbers())
def test_it_rejects_every_single_character_change(number):
    parse_national_id(number, today=TODAY)
    for i in range(18):
        for c in "0123456789X":
            if c == number[i]:
                continue
            changed = number[:i] + c + number[i + 1 :]
            with pytest.raises(NationalIdError):
                parse_national_id(changed, today=TODAY)


@settings(max_examples=100, deadline=None)
@given(valid_numbers())
def test_it_rejects_every_adjacent_swap(number):
    for i in range(17):
        if number[i] == number[i + 1]:
            continue  # swapping equal characters changes nothing
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        with pytest.raises(NationalIdError):
            parse_national_id(swapped, today=TODAY)


def test_it_never_logs_the_number(caplog):
    number = national_id(dt.date(1950, 2, 2))
    with caplog.at_level(logging.DEBUG):
        parse_national_id(number, today=TODAY)
        with pytest.raises(NationalIdError):
            parse_national_id(number[:17] + "Y", today=TODAY)
    assert number not in caplog.text


@pytest.mark.parametrize(
    ("region", "birth", "reason"),
    [
        ("449999", dt.date(1980, 1, 1), "not the code of a county"),  # Guangdong, no area
        ("440399", dt.date(1980, 1, 1), "not the code of a county"),
        ("110103", dt.date(2015, 3, 1), "abolished"),  # Chongwen district, gone in 2010
        ("910000", dt.date(1980, 1, 1), "province"),  # 9 + no province
    ],
)
def test_it_refuses_an_area_code_that_no_division_has_had(region, birth, reason):
    number = national_id(birth, region=region)
    with pytest.raises(NationalIdError, match=reason) as exc:
        parse_national_id(number, today=TODAY)
    assert number not in str(exc.value)


@pytest.mark.parametrize(
    ("region", "birth"),
    [
        ("110103", dt.date(1962, 4, 5)),  # Chongwen district, merged into Dongcheng in 2010
        ("440321", dt.date(1970, 8, 9)),  # Bao'an county (Shenzhen), 1982-1992
        ("440302", dt.date(1983, 1, 2)),  # Shatoujiao district office, abolished 1990
        ("440309", dt.date(1975, 5, 5)),  # Longhua district, created 2016: the card came later
        ("810000", dt.date(1988, 2, 2)),  # Hong Kong residents' residence permit
        ("830000", dt.date(1988, 2, 2)),  # Taiwan residents' residence permit
        ("944840", dt.date(1985, 3, 3)),  # foreigner's permanent residence card (2023)
    ],
)
def test_it_accepts_area_codes_that_are_on_valid_cards(region, birth):
    parsed = parse_national_id(national_id(birth, region=region), today=TODAY)
    assert parsed.birth_date == birth
