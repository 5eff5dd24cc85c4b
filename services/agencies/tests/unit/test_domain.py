from datetime import date

import pytest

from services.agencies.domain import (
    TRANSITIONS,
    BusinessDateError,
    TransitionNotAllowed,
    active_on,
    check_effective_date,
    next_status,
)

STATUSES = ["filed", "active", "suspended", "deregistered"]
ALLOWED = {
    ("approve", "filed"): "active",
    ("suspend", "active"): "suspended",
    ("reinstate", "suspended"): "active",
    ("deregister", "filed"): "deregistered",
    ("deregister", "active"): "deregistered",
    ("deregister", "suspended"): "deregistered",
}


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", STATUSES)
def test_every_action_from_every_status(action, status):
    if (action, status) in ALLOWED:
        assert next_status(action, status) == ALLOWED[(action, status)]
    else:
        with pytest.raises(TransitionNotAllowed):
            next_status(action, status)


def test_deregistered_is_final():
    for action in TRANSITIONS:
        with pytest.raises(TransitionNotAllowed):
            next_status(action, "deregistered")


def test_effective_date_rules():
    check_effective_date(date(2026, 5, 1), date(2026, 4, 1), date(2026, 6, 1))
    with pytest.raises(BusinessDateError, match="future"):
        check_effective_date(date(2026, 7, 1), date(2026, 4, 1), date(2026, 6, 1))
    with pytest.raises(BusinessDateError, match="before"):
        check_effective_date(date(2026, 3, 1), date(2026, 4, 1), date(2026, 6, 1))


def test_active_on_follows_the_history():
    history = [
        {"status": "filed", "on": "2025-01-10"},
        {"status": "active", "on": "2025-02-01"},
        {"status": "suspended", "on": "2025-06-01"},
        {"status": "active", "on": "2025-09-01"},
        {"status": "deregistered", "on": "2026-03-01"},
    ]
    assert not active_on(history, date(2025, 1, 31))
    assert active_on(history, date(2025, 2, 1))
    assert not active_on(history, date(2025, 7, 1))
    assert active_on(history, date(2025, 12, 31))
    assert not active_on(history, date(2026, 3, 1))
