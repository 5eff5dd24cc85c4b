"""The case lifecycle: every status × every step, and random sequences keeping the invariants."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enforcement.domain import (
    DEFAULT_RULES,
    ENDED_STATUSES,
    TRANSITIONS,
    CaseFile,
    DeadlineRule,
    InvalidStep,
    StepRefused,
    TransitionNotAllowed,
    add_period,
    new_case,
)

TODAY = date(2030, 1, 1)
FILED = date(2026, 3, 2)
STATUSES = ["filed", "investigating", "suspended", "decided", "closed", "transferred", "withdrawn"]
ACTIONS = ["investigate", "extend", "suspend", "resume", "decide", "close", "transfer", "withdraw"]
# Written out by hand, not derived from TRANSITIONS, so a change there shows up here.
ALLOWED = {
    ("filed", "investigate"): "investigating",
    ("filed", "extend"): "filed",
    ("filed", "transfer"): "transferred",
    ("filed", "withdraw"): "withdrawn",
    ("investigating", "extend"): "investigating",
    ("investigating", "suspend"): "suspended",
    ("investigating", "decide"): "decided",
    ("investigating", "transfer"): "transferred",
    ("investigating", "withdraw"): "withdrawn",
    ("suspended", "extend"): "suspended",
    ("suspended", "resume"): "investigating",
    ("suspended", "transfer"): "transferred",
    ("suspended", "withdraw"): "withdrawn",
    ("decided", "close"): "closed",
}
PATH_TO = {
    "filed": [],
    "investigating": ["investigate"],
    "suspended": ["investigate", "suspend"],
    "decided": ["investigate", "decide"],
    "closed": ["investigate", "decide", "close"],
    "transferred": ["transfer"],
    "withdrawn": ["withdraw"],
}
DETAILS = {
    "extend": {"approver": "王局长", "reason": "案情复杂"},
    "suspend": {"reason": "等待专利无效宣告结论"},
    "decide": {"outcome": "penalty_decision", "fine": Decimal("5000.00")},
    "transfer": {"to": "police"},
}


def case_in(status: str) -> CaseFile:
    c = new_case("administrative_penalty", FILED, DEFAULT_RULES["administrative_penalty"], "test rule", TODAY)
    for n, action in enumerate(PATH_TO[status], start=1):
        c = c.apply(action, FILED + timedelta(days=n), TODAY, **DETAILS.get(action, {}))
    assert c.status == status
    return c


def test_the_table_covers_every_action():
    assert sorted(TRANSITIONS) == sorted(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_every_step_from_every_status(status, action):
    c = case_in(status)
    on = FILED + timedelta(days=10)
    if (status, action) in ALLOWED:
        after = c.apply(action, on, TODAY, **DETAILS.get(action, {}))
        assert after.status == ALLOWED[(status, action)]
        assert after.last_step_on == on and after.history[-1] == (action, after.status, on)
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            c.apply(action, on, TODAY, **DETAILS.get(action, {}))
        assert (refused.value.action, refused.value.status) == (action, status)
        assert status in str(refused.value) and action in str(refused.value)


@pytest.mark.parametrize("status", sorted(ENDED_STATUSES))
def test_an_ended_case_refuses_everything(status):
    c = case_in(status)
    for action in ACTIONS:
        with pytest.raises(TransitionNotAllowed):
            c.apply(action, FILED + timedelta(days=20), TODAY, **DETAILS.get(action, {}))


def test_steps_cannot_go_back_in_time_or_into_the_future():
    c = case_in("investigating")
    with pytest.raises(InvalidStep, match="before the case's previous step"):
        c.apply("decide", FILED, TODAY, outcome="penalty_decision")
    with pytest.raises(InvalidStep, match="future"):
        c.apply("decide", TODAY + timedelta(days=1), TODAY, outcome="penalty_decision")
    same_day = c.apply("suspend", FILED + timedelta(days=1), TODAY, reason="on the day of the last step")
    assert same_day.status == "suspended"


@pytest.mark.parametrize(
    "procedure, outcome, ok",
    [
        ("administrative_penalty", "penalty_decision", True),
        ("administrative_penalty", "dismissed", True),
        ("administrative_penalty", "mediation_agreement", False),
        ("administrative_adjudication", "adjudication_infringement", True),
        ("administrative_adjudication", "adjudication_no_infringement", True),
        ("administrative_adjudication", "penalty_decision", False),
        ("mediation", "mediation_agreement", True),
        ("mediation", "adjudication_infringement", False),
        ("mediation", "transferred", False),
    ],
)
def test_an_outcome_must_fit_the_procedure(procedure, outcome, ok):
    c = new_case(procedure, FILED, DEFAULT_RULES[procedure], "r", TODAY).apply("investigate", FILED, TODAY)
    if ok:
        assert c.apply("decide", FILED, TODAY, outcome=outcome).decision.outcome == outcome
    else:
        with pytest.raises(InvalidStep) as exc:
            c.apply("decide", FILED, TODAY, outcome=outcome)
        assert exc.value.loc == "outcome"


def test_fines_come_only_with_a_penalty_and_are_never_negative():
    c = case_in("investigating")
    with pytest.raises(InvalidStep) as negative:
        c.apply("decide", FILED + timedelta(days=5), TODAY, outcome="penalty_decision", fine=Decimal("-1.00"))
    assert negative.value.loc == "fine"
    with pytest.raises(InvalidStep) as dismissed:
        c.apply("decide", FILED + timedelta(days=5), TODAY, outcome="dismissed", confiscation=Decimal("10.00"))
    assert dismissed.value.loc == "confiscation"
    decided = c.apply(
        "decide", FILED + timedelta(days=5), TODAY, outcome="dismissed", illegal_revenue=Decimal("300.00")
    )
    assert decided.decision.illegal_revenue == Decimal("300.00") and not decided.decision.against_respondent


# ------------------------------------------------------------------ random sequences

rules = st.builds(
    DeadlineRule,
    procedure=st.sampled_from(["administrative_penalty", "administrative_adjudication", "mediation"]),
    base_amount=st.integers(1, 120),
    base_unit=st.sampled_from(["days", "months"]),
    extension_amount=st.integers(0, 60),
    extension_unit=st.sampled_from(["days", "months"]),
)
steps = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(-3, 60), st.sampled_from(["penalty_decision", "dismissed"])),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(rule=rules, filed=st.dates(date(2020, 1, 1), date(2029, 6, 30)), sequence=steps)
def test_random_sequences_keep_the_invariants(rule, filed, sequence):
    c = new_case(rule.procedure, filed, rule, "random rule", TODAY)
    base_due = add_period(filed, rule.base_amount, rule.base_unit)
    on = filed
    ended_as = None
    for action, gap, outcome in sequence:
        on = on + timedelta(days=gap)
        details = dict(DETAILS.get(action, {}))
        if action == "decide":
            details = {"outcome": outcome if rule.procedure == "administrative_penalty" else "dismissed"}
        try:
            after = c.apply(action, on, TODAY, **details)
        except (TransitionNotAllowed, StepRefused, InvalidStep):
            assert ended_as is None or c.status == ended_as  # refusals change nothing
            continue
        assert ended_as is None, f"an ended case ({ended_as}) accepted {action}"
        c = after
        if c.status in ENDED_STATUSES:
            ended_as = c.status
            assert c.ended_on == on and c.suspended_since is None and c.due_date is not None
        # the deadline never falls before filing plus the base period
        assert c.due_as_of(on) >= base_due
        if c.due_date is not None:
            assert c.due_date >= base_due
    dates = [d for _, _, d in c.history]
    assert dates == sorted(dates) and all(filed <= d <= TODAY for d in dates)
    assert sum(1 for a, _, _ in c.history if a == "extend") <= 1
    periods = c.overdue_periods()
    assert all(end is None or start <= end for start, end in periods)
    pairs = zip(periods, periods[1:], strict=False)
    assert all(end is not None and end < following for (_, end), (following, _) in pairs)
    if c.ended_on is not None:
        assert c.closed_on_time == (c.ended_on <= c.due_as_of(c.ended_on))
        assert all(end is not None and end < c.ended_on for _, end in periods)
