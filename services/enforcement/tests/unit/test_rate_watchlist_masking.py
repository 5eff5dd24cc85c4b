"""The on-time closure rate on hand-made cases, watch-list windows, and masking for disclosure."""

from datetime import date
from decimal import Decimal

import pytest

from services.enforcement.domain import (
    DEFAULT_RULES,
    CaseFile,
    Tally,
    add_years,
    counting_decisions,
    disclosed_name,
    listed_periods,
    mask_person_name,
    new_case,
    on_time_closure_rate,
    validate_id_number,
)

TODAY = date(2030, 1, 1)
PENALTY = DEFAULT_RULES["administrative_penalty"]


def penalty_case(filed: date, *steps: tuple[str, date]) -> CaseFile:
    c = new_case("administrative_penalty", filed, PENALTY, "r", TODAY)
    for action, on in steps:
        details = {"outcome": "penalty_decision"} if action == "decide" else {}
        details |= {"to": "judiciary"} if action == "transfer" else {}
        c = c.apply(action, on, TODAY, **details)
    return c


def closed(filed: date, on: date) -> CaseFile:
    return penalty_case(filed, ("investigate", filed), ("decide", on), ("close", on))


@pytest.mark.parametrize(
    "on_time, closed_count, overdue, rate",
    [
        (9, 10, 0, Decimal("90.00")),
        (9, 9, 1, Decimal("90.00")),
        (2, 3, 0, Decimal("66.67")),
        (1, 2, 1, Decimal("33.33")),
        (0, 0, 3, Decimal("0.00")),
        (0, 0, 0, None),
    ],
)
def test_rate_formula(on_time, closed_count, overdue, rate):
    assert on_time_closure_rate(on_time, closed_count, overdue) == rate


HAND_MADE = {
    "A": closed(date(2026, 1, 5), date(2026, 3, 1)),  # due 04-05: on time
    "B": closed(date(2026, 1, 10), date(2026, 5, 1)),  # due 04-10: late
    "C": penalty_case(date(2025, 11, 1)),  # due 2026-01-30, still open
    "D": penalty_case(date(2026, 2, 1)),  # due 05-02, still open
    "E": penalty_case(date(2025, 12, 1), ("transfer", date(2026, 1, 15))),  # transferred in time
    "F": closed(date(2025, 10, 1), date(2025, 12, 1)),  # closed before the window
}


@pytest.mark.parametrize(
    "end, filed, closed_count, on_time, overdue, rate",
    [
        # filed A B D; closed A B E (A, E on time); at 06-30 C and D are overdue: 2 ÷ (3 + 2)
        (date(2026, 6, 30), 3, 3, 2, 2, Decimal("40.00")),
        # filed A B D; closed A E; at 03-31 only C is overdue: 2 ÷ (2 + 1)
        (date(2026, 3, 31), 3, 2, 2, 1, Decimal("66.67")),
    ],
)
def test_window_counts_on_hand_made_cases(end, filed, closed_count, on_time, overdue, rate):
    tally = Tally()
    for case in HAND_MADE.values():
        tally.count(case, date(2026, 1, 1), end)
    assert (tally.filed, tally.closed, tally.closed_on_time, tally.overdue_open) == (
        filed,
        closed_count,
        on_time,
        overdue,
    )
    assert tally.rate == rate


def five_years(_day: date) -> int:
    return 5


def test_two_decisions_within_the_window_list_the_respondent_until_the_first_ages_out():
    decided = [date(2021, 3, 1), date(2024, 6, 1)]
    assert listed_periods(decided, five_years) == [(date(2024, 6, 1), date(2026, 3, 1))]
    assert counting_decisions(decided, date(2026, 3, 1), 5) == decided
    assert counting_decisions(decided, date(2026, 3, 2), 5) == [date(2024, 6, 1)]


def test_one_decision_is_not_enough():
    assert listed_periods([date(2024, 6, 1)], five_years) == []


def test_decisions_further_apart_than_the_window_never_list():
    assert listed_periods([date(2018, 1, 1), date(2023, 1, 2)], five_years) == []
    assert listed_periods([date(2018, 1, 1), date(2023, 1, 1)], five_years) == [(date(2023, 1, 1), date(2023, 1, 1))]


def test_a_third_decision_after_a_gap_lists_again():
    decided = [date(2020, 1, 1), date(2022, 1, 1), date(2026, 6, 1)]
    assert listed_periods(decided, five_years) == [
        (date(2022, 1, 1), date(2025, 1, 1)),
        (date(2026, 6, 1), date(2027, 1, 1)),
    ]


def test_order_of_decisions_does_not_matter():
    decided = [date(2026, 6, 1), date(2020, 1, 1), date(2022, 1, 1)]
    assert listed_periods(decided, five_years) == listed_periods(sorted(decided), five_years)


def test_a_shorter_window_from_a_date_on_shortens_the_listing():
    def years_on(day: date) -> int:
        return 5 if day < date(2026, 1, 1) else 3

    decided = [date(2021, 6, 1), date(2023, 6, 1)]
    assert listed_periods(decided, years_on, [date(2026, 1, 1)]) == [(date(2023, 6, 1), date(2025, 12, 31))]


def test_a_longer_window_from_a_date_on_lists_again():
    def years_on(day: date) -> int:
        return 2 if day < date(2026, 1, 1) else 5

    decided = [date(2021, 6, 1), date(2024, 6, 1)]
    assert listed_periods(decided, years_on, [date(2026, 1, 1)]) == [(date(2026, 1, 1), date(2026, 6, 1))]


def test_leap_day_decisions_count_through_the_28th():
    assert add_years(date(2020, 2, 29), 1) == date(2021, 2, 28)
    decided = [date(2020, 2, 29), date(2021, 2, 28)]
    assert listed_periods(decided, lambda _d: 1) == [(date(2021, 2, 28), date(2021, 2, 28))]


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张三", "张*"),
        ("李小明", "李**"),
        ("欧阳娜娜", "欧***"),
        ("买买提·艾力", "买**·**"),
        ("张", "*"),
        (" 王五 ", "王*"),
    ],
)
def test_natural_persons_are_masked(name, masked):
    assert mask_person_name(name) == masked
    assert disclosed_name("natural_person", name) == masked


def test_company_names_are_shown():
    assert disclosed_name("organization", "镇江市某某贸易有限公司") == "镇江市某某贸易有限公司"


def test_identity_card_numbers():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"
    assert validate_id_number("440524188001010014") == "440524188001010014"
    for bad, why in [
        ("110105194912310021", "check character"),
        ("110105194913310028", "birth date"),
        ("11010519491231002", "17 digits"),
        ("1101051949123100AX", "17 digits"),
    ]:
        with pytest.raises(ValueError, match=why):
            validate_id_number(bad)
