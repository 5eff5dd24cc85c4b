"""Statistics read from their releases and the derived sources (ratio, growth, opening), with the
worked numbers of docs/progress.md ("Statistics and derived sources")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

from gateway.models import StatisticReleaseView
from gateway.sources import SourceContext, SourceReading, build_source, year_before
from gateway.statistics import StatisticFigures, StatisticReading
from zhichan.statistics_catalogue import BUILT_IN, Statistic, parse_period

QUANSHAN, GULOU, XUZHOU, JIANGSU = "320311", "320302", "320300", "320000"
XUZHOU_AND_BELOW = frozenset({XUZHOU, QUANSHAN, GULOU})
SHARE = Statistic("rd_share", "研发投入强度", "%", "flow", False)
_ids = count(1)


def release(
    code: str, period: str, value: str, *, region: str = QUANSHAN, published: str = "2020-01-01", revises=None
) -> StatisticReleaseView:
    found = parse_period(period)
    n = next(_ids)
    return StatisticReleaseView(
        id=f"R{n:04d}",
        statistic=code,
        region=region,
        period_kind=found.kind,
        period_start=found.start,
        period_end=found.end,
        value=value,
        unit=BUILT_IN[code].unit if code in BUILT_IN else SHARE.unit,
        published_on=date.fromisoformat(published),
        revises=revises,
        created_at=datetime(2020, 1, 1, tzinfo=UTC).replace(microsecond=n),
    )


class Releases:
    """The view's releases (gateway.statistics.StatisticReleases) without a database."""

    def __init__(self, rows: list[StatisticReleaseView]) -> None:
        self.rows = rows

    def ask(self, code: str, regions) -> None:
        pass

    async def statistic(self, code: str) -> Statistic | None:
        return {**BUILT_IN, SHARE.code: SHARE}.get(code)

    async def figures(self, statistic: Statistic, regions, as_of: date) -> StatisticFigures:
        return StatisticFigures(statistic, [r for r in self.rows if r.statistic == statistic.code], as_of)


def source(state: dict, rows: list[StatisticReleaseView], unit: str | None = "件", region: str = QUANSHAN):
    context = SourceContext(None, Releases(rows), region, XUZHOU_AND_BELOW)
    return build_source(context, state, unit)


def figures(statistic: Statistic, rows, as_of: str = "2030-01-01") -> StatisticFigures:
    return StatisticFigures(statistic, rows, date.fromisoformat(as_of))


D = date.fromisoformat
LATE = D("2030-01-01")  # a view date after every release


# --- statistics -------------------------------------------------------------------------------


def test_a_flow_is_covered_by_the_longest_periods_that_fit_and_stops_at_the_first_gap():
    grants = BUILT_IN["invention_grants"]
    rows = [
        release("invention_grants", "2024", "1200"),
        release("invention_grants", "2024-01", "999"),  # inside the year, which is read instead
        release("invention_grants", "2025Q1", "300"),
        release("invention_grants", "2025-04", "100"),
        release("invention_grants", "2025-05", "110"),
        release("invention_grants", "2025-07", "90"),  # after June's gap: not added
    ]
    read = figures(grants, rows)
    assert read.over(QUANSHAN, D("2024-01-01"), D("2025-12-31")) == StatisticReading(Decimal(1710), D("2025-05-31"))
    assert read.over(QUANSHAN, None, D("2025-12-31")) == StatisticReading(Decimal(1710), D("2025-05-31"))
    # From 2025: 300 + 100 + 110; to April: the quarter and April.
    assert read.over(QUANSHAN, D("2025-01-01"), D("2025-12-31")) == StatisticReading(Decimal(510), D("2025-05-31"))
    assert read.over(QUANSHAN, D("2025-01-01"), D("2025-04-30")) == StatisticReading(Decimal(400), D("2025-04-30"))
    assert read.over(QUANSHAN, D("2025-06-01"), D("2025-12-31")) is None  # nothing covered from June


def test_a_window_starting_mid_month_counts_its_first_month_whole():
    grants = BUILT_IN["invention_grants"]
    rows = [release("invention_grants", f"2024-{m:02d}", "10") for m in (3, 4, 5)]
    read = figures(grants, rows)
    # A plan starting 2024-03-26: March is released as a whole month, and no figure is finer.
    assert read.over(QUANSHAN, D("2024-03-26"), D("2024-05-31")) == StatisticReading(Decimal(30), D("2024-05-31"))


def test_a_stock_is_the_latest_period_ending_by_the_window_end_dated_at_its_end():
    patents = BUILT_IN["valid_invention_patents"]
    rows = [
        release("valid_invention_patents", "2024", "4800"),
        release("valid_invention_patents", "2025-09", "5000"),
        release("valid_invention_patents", "2025-10", "5050"),
    ]
    read = figures(patents, rows)
    assert read.over(QUANSHAN, D("2025-01-01"), D("2025-12-15")) == StatisticReading(Decimal(5050), D("2025-10-31"))
    assert read.over(QUANSHAN, None, D("2025-10-30")) == StatisticReading(Decimal(5000), D("2025-09-30"))
    assert read.over(QUANSHAN, None, D("2023-12-31")) is None


def test_an_additive_statistic_rolls_up_and_a_region_s_own_release_wins():
    patents = BUILT_IN["valid_invention_patents"]
    children = [
        release("valid_invention_patents", "2025-10", "100", region=QUANSHAN),
        release("valid_invention_patents", "2025-10", "50", region=GULOU),
    ]
    assert figures(patents, children).over(XUZHOU, None, D("2025-12-31")) == StatisticReading(
        Decimal(150), D("2025-10-31")
    )
    # Recursively: the province is its cities', the city its districts'.
    assert figures(patents, children).over(JIANGSU, None, D("2025-12-31")).value == 150
    own = release("valid_invention_patents", "2025-10", "200", region=XUZHOU)
    assert figures(patents, [*children, own]).over(XUZHOU, None, D("2025-12-31")).value == 200
    assert figures(patents, [*children, own]).over(JIANGSU, None, D("2025-12-31")).value == 200


def test_a_non_additive_statistic_is_only_its_own_release_and_never_summed():
    rows = [
        release("rd_share", "2025-10", "3.1", region=QUANSHAN),
        release("rd_share", "2025-10", "2.9", region=GULOU),
    ]
    assert figures(SHARE, rows).over(XUZHOU, D("2025-01-01"), D("2025-12-31")) is None
    own = [
        release("rd_share", "2025", "3.0"),
        release("rd_share", "2025-12", "3.4"),
        release("rd_share", "2025-10", "3.1"),
        release("rd_share", "2025Q3", "2.8"),
    ]
    read = figures(SHARE, own)
    # The period ending last, of those the longest: the year, not December; to October: October.
    assert read.over(QUANSHAN, D("2025-01-01"), D("2025-12-31")) == StatisticReading(Decimal("3.0"), D("2025-12-31"))
    assert read.over(QUANSHAN, D("2025-01-01"), D("2025-10-31")) == StatisticReading(Decimal("3.1"), D("2025-10-31"))


def test_a_revision_counts_from_its_publication_date():
    patents = BUILT_IN["valid_invention_patents"]
    first = release("valid_invention_patents", "2025-10", "5000", published="2025-11-15")
    revised = release("valid_invention_patents", "2025-10", "5100", published="2025-12-10", revises=first.id)
    rows = [first, revised]

    def as_of(day: str) -> StatisticReading | None:
        return figures(patents, rows, day).over(QUANSHAN, None, D(day))

    assert as_of("2025-11-14") is None
    assert as_of("2025-12-01") == StatisticReading(Decimal(5000), D("2025-10-31"))
    assert as_of("2025-12-31") == StatisticReading(Decimal(5100), D("2025-10-31"))


# --- derived sources --------------------------------------------------------------------------


PER_10K_HIGH_VALUE = {
    "ratio": {
        "numerator": {"metric": "statistics.valid_high_value_invention_patents"},
        "denominator": {"metric": "statistics.resident_population"},
        "per": "10000",
    }
}


async def test_a_ratio_of_levels_divides_base_units_and_rounds_half_up_to_two_decimals():
    # 2,810 patents ÷ 401.7 万人 (4,017,000 residents) × 10,000 = 6.9953… → 7.00.
    rows = [
        release("valid_high_value_invention_patents", "2025", "2810"),
        release("resident_population", "2024", "401.7"),
    ]
    ratio = source(PER_10K_HIGH_VALUE, rows, unit="件/万人")
    assert await ratio.read((None, D("2026-03-31")), LATE) == SourceReading(Decimal("7.00"), D("2025-12-31"), "件/万人")


async def test_a_ratio_has_no_reading_without_a_denominator():
    rows = [release("valid_high_value_invention_patents", "2025", "2810")]
    assert await source(PER_10K_HIGH_VALUE, rows).read((None, D("2026-03-31")), LATE) is None
    rows.append(release("resident_population", "2024", "0"))
    assert await source(PER_10K_HIGH_VALUE, rows).read((None, D("2026-03-31")), LATE) is None


async def test_a_ratio_of_flows_reads_both_over_the_shorter_coverage():
    # 专利密集型产业增加值占 GDP 比重: value added to June, GDP to September → both to June:
    # (150 + 160) ÷ (1000 + 1100) × 100 = 14.7619… → 14.76.
    rows = [
        release("gdp", "2025Q1", "1000"),
        release("gdp", "2025Q2", "1100"),
        release("gdp", "2025Q3", "1200"),
        release("ip_intensive_industry_value_added", "2025Q1", "150"),
        release("ip_intensive_industry_value_added", "2025Q2", "160"),
    ]
    state = {
        "ratio": {
            "numerator": {"metric": "statistics.ip_intensive_industry_value_added"},
            "denominator": {"metric": "statistics.gdp"},
            "per": "100",
        }
    }
    reading = await source(state, rows, unit="%").read((D("2025-01-01"), D("2025-12-31")), LATE)
    assert reading == SourceReading(Decimal("14.76"), D("2025-06-30"), "%")


async def test_growth_of_a_level_against_the_same_day_a_year_before():
    # 有效注册商标 10,800 at the end of October 2025 against 10,000 a year before: 8.00 %.
    rows = [
        release("valid_trademarks", "2024-10", "10000"),
        release("valid_trademarks", "2025-10", "10800"),
    ]
    growth = source({"growth": {"metric": "statistics.valid_trademarks"}, "over": "year"}, rows, unit="%")
    assert await growth.read((D("2025-01-01"), D("2025-12-15")), LATE) == SourceReading(
        Decimal("8.00"), D("2025-10-31"), "%"
    )
    # A year before, only September is known: not the same period, no reading.
    rows[0] = release("valid_trademarks", "2024-09", "10000")
    growth = source({"growth": {"metric": "statistics.valid_trademarks"}, "over": "year"}, rows, unit="%")
    assert await growth.read((D("2025-01-01"), D("2025-12-15")), LATE) is None


async def test_growth_of_a_flow_compares_the_year_to_date_with_the_same_days_a_year_before():
    # Grants to the end of October: 300 + 320 + 330 + 100 = 1,050 in 2025 against 900 + 100 = 1,000: 5.00 %.
    rows = [
        release("invention_grants", "2024Q1", "280"),
        release("invention_grants", "2024Q2", "300"),
        release("invention_grants", "2024Q3", "320"),
        release("invention_grants", "2024-10", "100"),
        release("invention_grants", "2024-11", "500"),  # after the days compared
        release("invention_grants", "2025Q1", "300"),
        release("invention_grants", "2025Q2", "320"),
        release("invention_grants", "2025Q3", "330"),
        release("invention_grants", "2025-10", "100"),
    ]
    growth = source({"growth": {"metric": "statistics.invention_grants"}, "over": "year"}, rows, unit="%")
    assert await growth.read((D("2025-01-01"), D("2025-12-15")), LATE) == SourceReading(
        Decimal("5.00"), D("2025-10-31"), "%"
    )


async def test_growth_of_a_ratio():
    # 每万人口高价值发明专利拥有量年均增长: 7.00 (2025) against 6.25 (2024) = 12.00 %.
    rows = [
        release("valid_high_value_invention_patents", "2024", "2500"),
        release("valid_high_value_invention_patents", "2025", "2810"),
        release("resident_population", "2024", "400"),
        release("resident_population", "2025", "401.7"),
    ]
    growth = source({"growth": PER_10K_HIGH_VALUE, "over": "year"}, rows, unit="%")
    assert await growth.read((None, D("2026-03-31")), LATE) == SourceReading(Decimal("12.00"), D("2025-12-31"), "%")


async def test_an_opening_balance_and_the_flows_after_it():
    # 5,000 grants up to 2025-06-30 (before the platform's records), then 120 in July and 130 in August.
    rows = [
        release("invention_grants", "2025-06", "999"),  # within the opening balance: not added again
        release("invention_grants", "2025-07", "120"),
        release("invention_grants", "2025-08", "130"),
    ]
    state = {"metric": "statistics.invention_grants", "opening": {"as_of": "2025-06-30", "value": "5000"}}
    grants = source(state, rows)
    assert await grants.read((D("2025-01-01"), D("2025-12-31")), LATE) == SourceReading(
        Decimal(5250), D("2025-08-31"), "件"
    )
    assert await grants.read((None, D("2025-06-30")), LATE) == SourceReading(Decimal(5000), D("2025-06-30"), "件")
    assert await grants.read((D("2025-01-01"), D("2025-06-01")), LATE) is None  # ends before the balance's day
    assert await grants.read((D("2025-08-01"), D("2025-12-31")), LATE) == SourceReading(
        Decimal(130), D("2025-08-31"), "件"
    )


async def test_a_statistic_is_converted_to_the_indicator_s_unit():
    rows = [release("gdp", "2025", "1.5")]
    gdp = source({"metric": "statistics.gdp"}, rows, unit="万元")
    assert await gdp.read((D("2025-01-01"), D("2025-12-31")), LATE) == SourceReading(
        Decimal("15000"), D("2025-12-31"), "万元"
    )


def test_a_year_before_a_month_s_end_is_that_month_s_end():
    assert year_before(D("2025-02-28")) == D("2024-02-29")
    assert year_before(D("2024-02-29")) == D("2023-02-28")
    assert year_before(D("2025-10-31")) == D("2024-10-31")
    assert year_before(D("2025-10-15")) == D("2024-10-15")
