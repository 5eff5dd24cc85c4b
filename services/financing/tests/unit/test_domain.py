from datetime import date
from decimal import Decimal

import pytest

from services.financing.domain import (
    ASSET_TYPES,
    KIND_FAMILY,
    PLEDGE_KINDS,
    TRANSITIONS,
    PledgeFacts,
    RuleViolation,
    TransitionNotAllowed,
    check_default,
    check_effective_date,
    check_period,
    check_risk_compensation,
    default_window,
    distinct_asset_types,
    next_status,
    outstanding_on,
    pledge_kind,
)
from zhichan.money import in_all_units

D = Decimal


@pytest.mark.parametrize(
    "types, kind",
    [
        (["patent"], "patent"),
        (["trademark"], "trademark"),
        (["copyright"], "copyright"),
        (["gi"], "trademark"),
        (["layout_design"], "patent"),
        (["patent", "patent", "patent"], "portfolio"),
        (["trademark", "gi"], "portfolio"),
        (["patent", "layout_design"], "portfolio"),
        (["copyright", "copyright"], "portfolio"),
        (["patent", "trademark"], "mixed"),
        (["patent", "patent", "copyright"], "mixed"),
        (["gi", "layout_design"], "mixed"),
    ],
)
def test_the_kind_follows_from_the_assets(types, kind):
    assert pledge_kind(types) == kind


def test_every_asset_type_has_a_family_that_is_a_kind():
    assert set(KIND_FAMILY) == set(ASSET_TYPES)
    assert set(KIND_FAMILY.values()) <= set(PLEDGE_KINDS)


def test_a_pledge_without_assets_has_no_kind():
    with pytest.raises(ValueError):
        pledge_kind([])


def test_distinct_asset_types_keep_the_vocabulary_order():
    assert distinct_asset_types(["copyright", "patent", "copyright", "gi"]) == ["patent", "copyright", "gi"]


STATUSES = ["registered", "released", "defaulted", "disposed"]
ALLOWED = {
    ("release", "registered"): "released",
    ("default", "registered"): "defaulted",
    ("dispose", "defaulted"): "disposed",
}


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", STATUSES)
def test_every_action_from_every_status(action, status):
    if (action, status) in ALLOWED:
        assert next_status(action, status) == ALLOWED[(action, status)]
    else:
        with pytest.raises(TransitionNotAllowed) as caught:
            next_status(action, status)
        assert caught.value.action == action and caught.value.status == status


def test_effective_dates_neither_precede_the_last_change_nor_lie_ahead():
    today = date(2025, 6, 30)
    check_effective_date("date", date(2025, 3, 1), date(2025, 3, 1), "registration", today)
    check_effective_date("date", today, date(2025, 3, 1), "registration", today)
    with pytest.raises(RuleViolation) as before:
        check_effective_date("date", date(2025, 2, 28), date(2025, 3, 1), "registration", today)
    assert before.value.field == "date" and "registration (2025-03-01)" in str(before.value)
    with pytest.raises(RuleViolation, match="future"):
        check_effective_date("date", date(2025, 7, 1), date(2025, 3, 1), "registration", today)


def test_periods_end_after_they_start():
    check_period("end", date(2025, 1, 1), date(2025, 1, 2), strictly_after=True)
    check_period("end", date(2025, 1, 1), date(2025, 1, 1), strictly_after=False)
    with pytest.raises(RuleViolation, match="empty"):
        check_period("end", date(2025, 1, 1), date(2025, 1, 1), strictly_after=True)
    with pytest.raises(RuleViolation, match="ends before it starts") as caught:
        check_period("loan_term_end", date(2025, 1, 2), date(2025, 1, 1), strictly_after=False)
    assert caught.value.field == "loan_term_end"


def test_outstanding_at_default_is_at_most_the_loan():
    check_default(D("100.00"), D("100.00"))
    with pytest.raises(RuleViolation) as caught:
        check_default(D("100.01"), D("100.00"))
    assert caught.value.field == "outstanding"


def test_risk_compensation_is_bounded_by_the_loss_and_the_claim():
    check_risk_compensation(D("50"), D("50"), D("50"))
    with pytest.raises(RuleViolation) as claim:
        check_risk_compensation(D("50.01"), D("0"), D("50"))
    assert claim.value.field == "claim_amount"
    with pytest.raises(RuleViolation) as paid:
        check_risk_compensation(D("40"), D("40.01"), D("50"))
    assert paid.value.field == "paid_amount"


LOAN = D("1000000.00")


@pytest.mark.parametrize(
    "facts, day, balance",
    [
        (PledgeFacts(LOAN, date(2025, 3, 1)), date(2025, 2, 28), D("0")),
        (PledgeFacts(LOAN, date(2025, 3, 1)), date(2025, 3, 1), LOAN),
        (PledgeFacts(LOAN, date(2025, 3, 1), released_on=date(2025, 9, 1)), date(2025, 8, 31), LOAN),
        (PledgeFacts(LOAN, date(2025, 3, 1), released_on=date(2025, 9, 1)), date(2025, 9, 1), D("0")),
        (
            PledgeFacts(LOAN, date(2025, 3, 1), defaulted_on=date(2025, 6, 1), outstanding_at_default=D("600000.01")),
            date(2025, 5, 31),
            LOAN,
        ),
        (
            PledgeFacts(LOAN, date(2025, 3, 1), defaulted_on=date(2025, 6, 1), outstanding_at_default=D("600000.01")),
            date(2025, 6, 1),
            D("600000.01"),
        ),
        (
            PledgeFacts(
                LOAN,
                date(2025, 3, 1),
                defaulted_on=date(2025, 6, 1),
                outstanding_at_default=D("600000.01"),
                disposed_on=date(2025, 12, 1),
            ),
            date(2025, 11, 30),
            D("600000.01"),
        ),
        (
            PledgeFacts(
                LOAN,
                date(2025, 3, 1),
                defaulted_on=date(2025, 6, 1),
                outstanding_at_default=D("600000.01"),
                disposed_on=date(2025, 12, 1),
            ),
            date(2025, 12, 1),
            D("0"),
        ),
    ],
)
def test_outstanding_balance_on_a_date(facts, day, balance):
    assert outstanding_on(facts, day) == balance


def test_summary_window_defaults_to_the_year_so_far():
    today = date(2025, 6, 30)
    assert default_window(today, None, None) == (date(2025, 1, 1), today)
    assert default_window(today, None, date(2024, 5, 5)) == (date(2024, 1, 1), date(2024, 5, 5))
    assert default_window(today, date(2020, 1, 1), None) == (date(2020, 1, 1), today)
    with pytest.raises(RuleViolation) as caught:
        default_window(today, date(2025, 2, 1), date(2025, 1, 31))
    assert caught.value.field == "from"


@pytest.mark.parametrize(
    "yuan, wan_yuan, yi_yuan",
    [
        ("500000000.00", "50000", "5"),  # 质押融资累计5亿元
        ("281000000.00", "28100", "2.81"),
        ("12345.67", "1.234567", "0.0001234567"),
        ("0.01", "0.000001", "0.0000000001"),
        ("0.00", "0", "0"),
    ],
)
def test_amounts_read_the_same_in_yuan_wan_yuan_and_yi_yuan(yuan, wan_yuan, yi_yuan):
    assert in_all_units(D(yuan)) == {"yuan": yuan, "wan_yuan": wan_yuan, "yi_yuan": yi_yuan}
