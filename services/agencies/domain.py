"""Agency rules, free of I/O: the filing state machine and the vocabularies, certificate numbers,
complaints' handling deadlines, the credit grade, the random inspection draw."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date

from zhichan import vocabulary
from zhichan.vocabulary import Vocabulary
from zhichan.workdays import Deadline, WorkdayCalendar

# Service types, brand levels, practitioner types and inspection findings are filters of the
# metric catalogue too: they are declared in the kernel, where the catalogue can read them, and
# named here.
SERVICE_TYPES = vocabulary.AGENCY_SERVICE_TYPES
BRAND_LEVELS = vocabulary.BRAND_LEVELS
PRACTITIONER_TYPES = vocabulary.PRACTITIONER_TYPES
INSPECTION_FINDINGS = vocabulary.INSPECTION_FINDINGS
STATUSES = Vocabulary({"filed": "已备案待审", "active": "正常", "suspended": "暂停", "deregistered": "已注销"})

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"filed"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "active"),
    "deregister": (frozenset({"filed", "active", "suspended"}), "deregistered"),
}
ACTION_LABELS = Vocabulary({"approve": "审核通过", "suspend": "暂停", "reinstate": "恢复", "deregister": "注销"})


class TransitionNotAllowed(Exception):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} an agency that is {status}")
        self.action = action
        self.status = status


class BusinessDateError(ValueError):
    pass


def next_status(action: str, status: str) -> str:
    allowed_from, target = TRANSITIONS[action]
    if status not in allowed_from:
        raise TransitionNotAllowed(action, status)
    return target


def check_effective_date(effective: date, last_change: date, today: date) -> None:
    """A change takes effect on a business date: not in the future, not before the last change."""
    if effective > today:
        raise BusinessDateError("the date lies in the future")
    if effective < last_change:
        raise BusinessDateError(f"the date lies before the agency's last change ({last_change.isoformat()})")


def active_on(history: list[dict], day: date) -> bool:
    """Whether an agency with this status history was active on ``day``."""
    status = None
    for entry in history:
        if date.fromisoformat(entry["on"]) <= day:
            status = entry["status"]
    return status == "active"


# ---------------------------------------------------------------------------------------------
# Practitioners (执业人员)

PRACTITIONER_STATUSES = Vocabulary({"active": "执业中", "left": "已离职"})
# The first two digits of a GB/T 2260 code: the provinces, plus Taiwan, Hong Kong and Macao.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
CERTIFICATE_FORMATS = {
    "patent_attorney": "7 digits: the 2-digit province code of GB/T 2260 and a 5-digit national serial",
    "trademark_agent": '"TM", the 2-digit province code of GB/T 2260 and a 6-digit serial',
}


class CertificateError(ValueError):
    pass


def normalise_certificate(number: str, practitioner_type: str) -> str:
    """The certificate number in its canonical form, or :class:`CertificateError`.

    A patent attorney's qualification certificate (专利代理师资格证书) number is 7 digits: the
    province code of the issuing province (GB 2260, first two digits) and a national serial
    (CNIPA's code standard for patent agency). Trademark agents have had no national
    qualification certificate since 2003; the platform records the number the local office
    registers them under, "TM" + province code + a 6-digit serial.
    """
    number = number.strip().upper()
    if practitioner_type == "patent_attorney":
        well_formed = len(number) == 7 and number.isdigit()
        province = number[:2]
    else:
        well_formed = len(number) == 10 and number.startswith("TM") and number[2:].isdigit()
        province = number[2:4]
    if not well_formed:
        raise CertificateError(f"a {practitioner_type} certificate number is {CERTIFICATE_FORMATS[practitioner_type]}")
    if province not in PROVINCE_PREFIXES:
        raise CertificateError(f"{province} is not a province code of GB/T 2260")
    return number


# ---------------------------------------------------------------------------------------------
# Annual reports (年度报告)

REPORT_STATUSES = Vocabulary({"current": "有效", "superseded": "已更正"})


def check_report_year(year: int, filed_year: int, today: date) -> None:
    """A report covers a year that has begun, and not a year before the agency was filed."""
    if year > today.year:
        raise BusinessDateError(f"{year} is a future year")
    if year < filed_year:
        raise BusinessDateError(f"the agency was filed only in {filed_year}")


# ---------------------------------------------------------------------------------------------
# Complaints (投诉)

COMPLAINT_CHANNELS = Vocabulary({"hotline": "热线", "online": "网上", "letter": "来信"})
COMPLAINT_OUTCOMES = Vocabulary({"upheld": "属实", "rejected": "不属实", "mediated": "调解"})
COMPLAINT_STATUSES = Vocabulary({"open": "办理中", "resolved": "已办结"})
DEFAULT_HANDLING_WORKING_DAYS = 15


def handling_deadline(received_on: date, working_days: int, calendar: WorkdayCalendar) -> Deadline:
    """The day a complaint must be handled by: the ``working_days``-th working day after the day it
    was received (that day itself not counted). Provisional when some day counted lies in a year
    whose holiday arrangement ``calendar`` does not know yet: such days count Monday to Friday."""
    return calendar.add_working_days(received_on, working_days)


def recounted_deadline(
    *,
    received_on: date,
    working_days: int,
    deadline: date,
    provisional: bool,
    known_through: int | None,
    calendar: WorkdayCalendar,
) -> Deadline | None:
    """A complaint's deadline counted again with ``calendar``, or None when it stands.

    Only a provisional deadline is counted again: an arrangement once published does not change,
    so a deadline counted wholly within published years is final. And only by a calendar that
    knows more years than the one it was counted with (``known_through``, its last year; None when
    not recorded): a calendar that knows no more has nothing to add, and one that knows fewer — a
    replica of the previous release, during an upgrade — must not undo the count of a newer one.

    Once the calendar knows the year a provisional deadline ran into, the count gives the deadline
    the arrangement makes — usually another day, since that year's holidays no longer count as
    working days and its adjusted weekend days (调休) do — and no longer provisional. If the
    calendar still lacks a year the count runs into, the deadline stays provisional (the days of
    the years it does know now count by their arrangement). None when the count gives the same day
    and the same flag: counting again never changes a deadline twice.
    """
    if not provisional or (known_through is not None and calendar.last_year <= known_through):
        return None
    recounted = handling_deadline(received_on, working_days, calendar)
    if (recounted.day, recounted.provisional) == (deadline, provisional):
        return None
    return recounted


# ---------------------------------------------------------------------------------------------
# Credit archive (诚信档案) and grade (信用等级)

CREDIT_GRADES = Vocabulary({"A": "守信", "B": "基本守信", "C": "失信风险", "D": "严重失信"})
# kind → (polarity, default points, label)
CREDIT_KINDS: dict[str, tuple[str, int, str]] = {
    "commendation": ("commendation", 5, "表彰奖励"),
    "complaint_upheld": ("violation", 10, "投诉属实"),
    "inspection_rectification": ("violation", 10, "抽查责令整改"),
    "inspection_penalty": ("violation", 20, "抽查发现违法予以处罚"),
    "penalty": ("violation", 20, "行政处罚"),
    "abnormal_filings": ("violation", 15, "非正常专利申请"),
}
CREDIT_KIND_LABELS = Vocabulary({kind: label for kind, (_, _, label) in CREDIT_KINDS.items()})
# Kinds an officer records by hand; the others follow from complaints and inspections.
MANUAL_CREDIT_KINDS = ("commendation", "penalty", "abnormal_filings")
PENALTY_KINDS = frozenset({"penalty", "inspection_penalty"})
CREDIT_WINDOW_YEARS = 3
BASE_SCORE = 100
GRADE_FLOORS = (("A", 95), ("B", 80), ("C", 60))  # the lowest score of each grade; below C is D


@dataclass(frozen=True)
class CreditEntryFact:
    id: str
    kind: str
    points: int
    occurred_on: date


@dataclass(frozen=True)
class CountedEntry:
    id: str
    kind: str
    occurred_on: date
    effect: int  # + for a commendation, − for a violation


@dataclass(frozen=True)
class GradeReport:
    grade: str
    score: int
    as_of: date
    window_from: date  # entries dated after this day count
    counted: list[CountedEntry]
    caps: list[str]
    explanation: list[str]


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def credit_grade(entries: list[CreditEntryFact], as_of: date) -> GradeReport:
    """The credit grade (A, B, C, D) of an agency on ``as_of``, from its credit archive.

    The rule:
    1. Only entries of the last three years count: dated after ``as_of`` three years back, up to
       and including ``as_of``.
    2. The score starts at 100; each violation takes its points off, each commendation adds its
       points; the score never exceeds 100 (commendations offset violations, they do not bank).
    3. Score ≥ 95 is A, ≥ 80 is B, ≥ 60 is C, below 60 is D.
    4. A penalty (行政处罚, or an inspection that ended in one) in the last twelve months caps the
       grade at C, however high the score.

    Default points: commendation +5; upheld complaint −10; inspection ordering rectification −10;
    abnormal filings −15; penalty −20 (an officer may weigh a single entry otherwise).
    """
    window_from = years_before(as_of, CREDIT_WINDOW_YEARS)
    year_ago = years_before(as_of, 1)
    counted = [
        CountedEntry(e.id, e.kind, e.occurred_on, e.points if CREDIT_KINDS[e.kind][0] == "commendation" else -e.points)
        for e in sorted(entries, key=lambda e: (e.occurred_on, e.id))
        if window_from < e.occurred_on <= as_of
    ]
    raw = BASE_SCORE + sum(c.effect for c in counted)
    score = min(BASE_SCORE, raw)
    grade = next((g for g, floor in GRADE_FLOORS if score >= floor), "D")
    explanation = [
        f"{len(counted)} entries dated {window_from.isoformat()} (exclusive) to {as_of.isoformat()} count",
        f"score {BASE_SCORE} {'+' if raw >= BASE_SCORE else '−'} {abs(raw - BASE_SCORE)} = {raw}"
        + (f", capped at {BASE_SCORE}" if raw > BASE_SCORE else ""),
        f"score {score} gives grade {grade} ({', '.join(f'{g} ≥ {floor}' for g, floor in GRADE_FLOORS)}, D below)",
    ]
    caps = []
    recent_penalties = [c for c in counted if c.kind in PENALTY_KINDS and c.occurred_on > year_ago]
    if recent_penalties and grade in ("A", "B"):
        caps.append(f"a penalty on {recent_penalties[-1].occurred_on.isoformat()} (within twelve months) caps at C")
        grade = "C"
    explanation += caps
    return GradeReport(grade, score, as_of, window_from, counted, caps, explanation)


# ---------------------------------------------------------------------------------------------
# Random inspections (双随机、一公开)

INSPECTION_STATUSES = Vocabulary({"pending": "待检查", "concluded": "已办结"})
CREDIT_KIND_OF_FINDING = {"rectification_ordered": "inspection_rectification", "penalised": "inspection_penalty"}
DEFAULT_GRADE_WEIGHTS = {"A": 1, "B": 1, "C": 2, "D": 3}
DRAW_ALGORITHM = "sequential-weighted-v1"


class DrawError(ValueError):
    pass


@dataclass(frozen=True)
class Candidate:
    id: str
    weight: int


@dataclass(frozen=True)
class DrawResult:
    agencies: list[str]  # drawn agency ids, in draw order
    inspectors: list[str]  # drawn inspector ids, in draw order
    assignments: list[tuple[str, tuple[str, str]]]  # agency id → its pair of inspectors


def weighted_sample(rng: random.Random, candidates: list[Candidate], count: int) -> list[str]:
    """``count`` distinct ids, each pick taking a remaining candidate with probability weight / total.

    Uses only ``Random.random()``, whose sequence for a given integer seed Python guarantees across
    versions, and exact arithmetic on integer weights, so the same inputs give the same picks anywhere.
    """
    if count > len(candidates):
        raise DrawError(f"cannot draw {count} from {len(candidates)}")
    remaining = list(candidates)
    picked: list[str] = []
    for _ in range(count):
        total = sum(c.weight for c in remaining)
        target = math.floor(rng.random() * total)
        for index, candidate in enumerate(remaining):
            target -= candidate.weight
            if target < 0:
                picked.append(remaining.pop(index).id)
                break
    return picked


def run_draw(seed: int, agencies: list[Candidate], inspectors: list[str], agency_count: int, inspector_count: int):
    """The draw: first the agencies (weighted), then the inspectors (uniform) from one generator.

    Inputs are taken in the order given (the service stores them sorted by id). The drawn
    inspectors form pairs in draw order (1st with 2nd, 3rd with 4th …); the drawn agencies take
    the pairs in turn, so with fewer pairs than agencies a pair inspects several agencies.
    """
    if inspector_count < 2 or inspector_count % 2:
        raise DrawError("inspectors go in pairs: draw an even number, at least 2")
    if any(c.weight < 1 for c in agencies):
        raise DrawError("weights are positive integers")
    rng = random.Random(seed)
    drawn_agencies = weighted_sample(rng, agencies, agency_count)
    drawn_inspectors = weighted_sample(rng, [Candidate(i, 1) for i in inspectors], inspector_count)
    pairs = [(drawn_inspectors[i], drawn_inspectors[i + 1]) for i in range(0, inspector_count, 2)]
    assignments = [(agency, pairs[n % len(pairs)]) for n, agency in enumerate(drawn_agencies)]
    return DrawResult(drawn_agencies, drawn_inspectors, assignments)
