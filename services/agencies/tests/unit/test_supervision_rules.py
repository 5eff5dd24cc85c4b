"""Supervision rules without I/O: certificates, report years, the credit grade, the draw."""

import random
from collections import Counter
from datetime import date

import pytest

from services.agencies.domain import (
    CREDIT_KINDS,
    BusinessDateError,
    Candidate,
    CertificateError,
    CreditEntryFact,
    DrawError,
    check_report_year,
    credit_grade,
    normalise_certificate,
    run_draw,
    weighted_sample,
    years_before,
)

# ---------------------------------------------------------------------------------------------
# Certificates


@pytest.mark.parametrize(
    "number, practitioner_type, canonical",
    [
        ("3200123", "patent_attorney", "3200123"),
        (" 1100001 ", "patent_attorney", "1100001"),
        ("tm32000001", "trademark_agent", "TM32000001"),
        ("TM81123456", "trademark_agent", "TM81123456"),
    ],
)
def test_well_formed_certificates_are_normalised(number, practitioner_type, canonical):
    assert normalise_certificate(number, practitioner_type) == canonical


@pytest.mark.parametrize(
    "number, practitioner_type, complaint",
    [
        ("320012", "patent_attorney", "7 digits"),  # too short
        ("32001234", "patent_attorney", "7 digits"),  # too long
        ("32A0123", "patent_attorney", "7 digits"),
        ("9900123", "patent_attorney", "province"),  # 99 is no province
        ("0000123", "patent_attorney", "province"),
        ("3200123", "trademark_agent", "TM"),  # a patent attorney's number is not a trademark agent's
        ("TM3200001", "trademark_agent", "TM"),
        ("TM99000001", "trademark_agent", "province"),
    ],
)
def test_malformed_certificates_are_refused_with_the_format(number, practitioner_type, complaint):
    with pytest.raises(CertificateError, match=complaint):
        normalise_certificate(number, practitioner_type)


# ---------------------------------------------------------------------------------------------
# Annual report years


def test_report_years_run_from_the_filing_year_to_the_current_year():
    today = date(2026, 3, 1)
    check_report_year(2025, 2023, today)
    check_report_year(2023, 2023, today)
    check_report_year(2026, 2023, today)
    with pytest.raises(BusinessDateError, match="future"):
        check_report_year(2027, 2023, today)
    with pytest.raises(BusinessDateError, match="filed only in 2023"):
        check_report_year(2022, 2023, today)


# ---------------------------------------------------------------------------------------------
# Credit grade

AS_OF = date(2026, 6, 30)


def entries(*specs: tuple[str, str, int | None]) -> list[CreditEntryFact]:
    return [
        CreditEntryFact(f"e{n}", kind, points or CREDIT_KINDS[kind][1], date.fromisoformat(day))
        for n, (kind, day, points) in enumerate(specs)
    ]


def test_a_clean_archive_is_grade_a():
    report = credit_grade([], AS_OF)
    assert (report.grade, report.score, report.counted, report.caps) == ("A", 100, [], [])
    assert report.window_from == date(2023, 6, 30)


@pytest.mark.parametrize(
    "specs, score, grade",
    [
        ([("complaint_upheld", "2026-01-10", None)], 90, "B"),
        ([("complaint_upheld", "2026-01-10", None), ("commendation", "2026-02-01", None)], 95, "A"),
        ([("complaint_upheld", "2025-01-10", None)] * 2, 80, "B"),
        ([("complaint_upheld", "2025-01-10", None)] * 3, 70, "C"),
        ([("abnormal_filings", "2024-05-01", None), ("inspection_rectification", "2024-09-01", None)], 75, "C"),
        ([("penalty", "2024-01-01", None)] * 2 + [("complaint_upheld", "2025-01-01", None)], 50, "D"),
        ([("complaint_upheld", "2026-01-10", 45)], 55, "D"),  # an officer weighed this one heavier
    ],
)
def test_score_is_100_minus_violations_plus_commendations_and_sets_the_grade(specs, score, grade):
    report = credit_grade(entries(*specs), AS_OF)
    assert (report.score, report.grade) == (score, grade)


def test_commendations_do_not_bank_above_100():
    report = credit_grade(entries(("commendation", "2025-01-01", None), ("commendation", "2025-06-01", None)), AS_OF)
    assert report.score == 100 and report.grade == "A"
    assert any("capped at 100" in line for line in report.explanation)
    # a later violation is not absorbed by the earlier surplus
    later = entries(("commendation", "2025-01-01", None), ("commendation", "2025-06-01", None))
    later += entries(("complaint_upheld", "2026-01-01", 20))
    assert credit_grade(later, AS_OF).score == 90


def test_only_the_last_three_years_count():
    window_edge = entries(("penalty", "2023-06-30", 50))  # exactly three years before: out
    assert credit_grade(window_edge, AS_OF).grade == "A"
    inside = entries(("penalty", "2023-07-01", 50))
    assert credit_grade(inside, AS_OF).grade == "D"
    after_as_of = entries(("penalty", "2026-07-01", 50))  # not yet happened on as_of
    assert credit_grade(after_as_of, AS_OF).grade == "A"


def test_a_penalty_within_twelve_months_caps_the_grade_at_c():
    penalty = entries(("penalty", "2026-01-15", None))  # score 80: B by points
    capped = credit_grade(penalty, AS_OF)
    assert capped.score == 80 and capped.grade == "C" and "2026-01-15" in capped.caps[0]
    assert credit_grade(penalty, date(2027, 1, 14)).grade == "C"
    assert credit_grade(penalty, date(2027, 1, 15)).grade == "B"  # a year ago: points only
    assert credit_grade(penalty, date(2029, 1, 15)).grade == "A"  # out of the archive window
    inspection = entries(("inspection_penalty", "2026-05-01", None))
    assert credit_grade(inspection, AS_OF).grade == "C"


def test_the_cap_never_raises_a_grade():
    heavy = entries(("penalty", "2026-05-01", 60))
    report = credit_grade(heavy, AS_OF)
    assert report.grade == "D" and report.caps == []


def test_the_report_explains_each_counted_entry_with_its_effect():
    report = credit_grade(
        entries(("commendation", "2025-03-01", None), ("complaint_upheld", "2025-02-01", None)), AS_OF
    )
    assert [(c.kind, c.effect) for c in report.counted] == [("complaint_upheld", -10), ("commendation", 5)]
    assert report.explanation[1] == "score 100 − 5 = 95"


def test_three_years_before_a_leap_day():
    assert years_before(date(2028, 2, 29), 3) == date(2025, 2, 28)
    assert years_before(date(2026, 6, 30), 1) == date(2025, 6, 30)


# ---------------------------------------------------------------------------------------------
# The random draw

POOL = [f"insp-{n:02d}" for n in range(8)]


def agencies(weights: dict[str, int]) -> list[Candidate]:
    return [Candidate(agency_id, weight) for agency_id, weight in sorted(weights.items())]


def test_same_seed_same_inputs_same_draw():
    candidates = agencies({f"ag-{n:02d}": 1 + n % 3 for n in range(20)})
    first = run_draw(20261124, candidates, POOL, 5, 4)
    again = run_draw(20261124, candidates, POOL, 5, 4)
    assert first == again
    other = run_draw(20261125, candidates, POOL, 5, 4)
    assert other.agencies != first.agencies


def test_the_draw_is_pinned_for_a_known_seed():
    # Recorded draws are verified by running them again, possibly years later on another Python:
    # if this result changes, the algorithm changed and needs a new DRAW_ALGORITHM name.
    # Worked by hand from Random(42).random() = 0.6394, 0.0250, 0.2750, 0.2232, 0.7365, 0.6767, 0.8922:
    # weights a1 b1 c2 d3 e1 (total 8): ⌊0.6394·8⌋ = 5 falls in d's slots 4–6 → d; then a1 b1 c2 e1:
    # ⌊0.0250·5⌋ = 0 → a; then b1 c2 e1: ⌊0.2750·4⌋ = 1 → c. Inspectors (uniform, 8 then 7, 6, 5
    # left): slots 1, 5, 4, 4 → insp-01, insp-06, insp-05, insp-07.
    candidates = agencies({"ag-a": 1, "ag-b": 1, "ag-c": 2, "ag-d": 3, "ag-e": 1})
    result = run_draw(42, candidates, POOL, 3, 4)
    assert result.agencies == ["ag-d", "ag-a", "ag-c"]
    assert result.inspectors == ["insp-01", "insp-06", "insp-05", "insp-07"]


def test_inspectors_go_in_pairs_and_the_pairs_take_the_agencies_in_turn():
    candidates = agencies({f"ag-{n}": 1 for n in range(5)})
    result = run_draw(7, candidates, POOL, 5, 4)
    assert len(set(result.agencies)) == 5 and len(set(result.inspectors)) == 4
    pair_one = tuple(result.inspectors[0:2])
    pair_two = tuple(result.inspectors[2:4])
    assert [pair for _, pair in result.assignments] == [pair_one, pair_two, pair_one, pair_two, pair_one]
    assert [agency for agency, _ in result.assignments] == result.agencies


@pytest.mark.parametrize("inspector_count", [0, 1, 3])
def test_inspectors_must_be_an_even_number(inspector_count):
    with pytest.raises(DrawError, match="pairs"):
        run_draw(1, agencies({"a": 1}), POOL, 1, inspector_count)


def test_cannot_draw_more_than_there_are():
    with pytest.raises(DrawError):
        run_draw(1, agencies({"a": 1, "b": 1}), POOL, 3, 2)
    with pytest.raises(DrawError):
        run_draw(1, agencies({"a": 1}), POOL[:2], 1, 4)


def test_weights_are_positive():
    with pytest.raises(DrawError, match="positive"):
        run_draw(1, agencies({"a": 0, "b": 1}), POOL, 1, 2)


def draw_counts(weights: dict[str, int], count: int, trials: int, seed: int) -> Counter:
    """How often each candidate is drawn over ``trials`` draws with seeds from one fixed generator."""
    seeds = random.Random(seed)
    candidates = agencies(weights)
    tally: Counter = Counter()
    for _ in range(trials):
        tally.update(weighted_sample(random.Random(seeds.getrandbits(63)), candidates, count))
    return tally


def test_grade_weights_shift_the_odds_as_configured():
    # 10 agencies of weight 1 (grade A) and 10 of weight 3 (grade D): a single pick is a D-agency
    # with probability 30/40 = 0.75; over 4000 draws the share's standard error is 0.007.
    weights = {f"A{n}": 1 for n in range(10)} | {f"D{n}": 3 for n in range(10)}
    tally = draw_counts(weights, 1, 4000, seed=6)
    d_share = sum(v for k, v in tally.items() if k.startswith("D")) / 4000
    assert 0.72 < d_share < 0.78, d_share
    assert all(60 < tally[f"A{n}"] < 140 for n in range(10)), tally  # each A about 100
    assert all(240 < tally[f"D{n}"] < 360 for n in range(10)), tally  # each D about 300


def test_equal_weights_draw_uniformly_without_replacement():
    # 3 of 6 with equal weights: each agency is in a draw with probability 1/2.
    tally = draw_counts({f"ag-{n}": 1 for n in range(6)}, 3, 3000, seed=11)
    assert sum(tally.values()) == 9000
    assert all(1380 < hits < 1620 for hits in tally.values()), tally
