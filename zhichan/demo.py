"""The demo: the three seed plans and a deterministic, realistic history of records since
2024-01-01 in every domain, loaded through the gateway's API like any municipal system would:
the history of records as files through the imports, as an office going live mid-plan brings it.

Figures are chosen around the plans' own milestones so that a newcomer sees real progress:
Zhenjiang's pledge financing near its 亿元 steps, Yichang's annual pledges near 40 亿元,
enforcement cases with some overdue, agencies filed and approved, reports by the responsible
departments, official statistics since 2020 (with a revised monthly figure) — some indicators on
track, some at risk, some behind. Every write carries an
Idempotency-Key, so loading the demo twice changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import httpx

from zhichan.auth import TokenSigner
from zhichan.clock import today
from zhichan.tabular import records_csv
from zhichan.uscc import build_uscc

PLANS_DIR = Path(__file__).resolve().parent.parent / "demo" / "plans"
# Official statistics since 2020 for the demo's regions, one release per row (the import's CSV):
# what the seed plans' creation goals are computed from.
STATISTICS_FILE = Path(__file__).resolve().parent.parent / "demo" / "statistics" / "releases.csv"
HISTORY_START = date(2024, 1, 1)
SEED = 20240101
CONCURRENCY = 8
BANKS = ["中国银行", "中国工商银行", "中国建设银行", "交通银行", "江苏银行", "湖北银行", "四川银行"]
PATENT_TITLES = ["一种高效节能电机", "智能仓储调度方法", "新型复合材料制备工艺", "柑橘深加工装置", "锂电池隔膜涂布设备"]


@dataclass(frozen=True)
class RegionHistory:
    """How much of each kind of record a region gets per full year."""

    code: str
    name: str
    pledge_yuan_per_year: dict[int, int]  # year → total 元 of pledges registered that year
    pledge_size: int  # typical loan, 元
    transactions_per_year: int
    cases_per_year: int
    late_share: float  # share of cases closed after their deadline
    offline_agencies: int
    campaigns: list[tuple[str, date, date]]
    matchmaking_days: list[date]
    annual_staff: list[int]  # staff reported by the region's agencies


REGIONS = [
    RegionHistory(
        "321100-ETDZ",
        "镇江经济技术开发区",
        {2024: 210_000_000, 2025: 165_000_000, 2026: 80_000_000},
        5_000_000,
        80,
        30,
        0.12,
        40,
        [
            ("2024年知识产权执法“铁拳”行动", date(2024, 4, 1), date(2024, 10, 31)),
            ("2025年“龙腾”专项行动", date(2025, 5, 1), date(2025, 11, 30)),
        ],
        [date(2024, 5, 20), date(2025, 6, 18), date(2026, 4, 22)],
        [],
    ),
    RegionHistory(
        "420500",
        "宜昌市",
        {2024: 3_300_000_000, 2025: 4_150_000_000, 2026: 2_500_000_000},
        30_000_000,
        60,
        40,
        0.05,
        25,
        [("2025年宜昌市“蓝天”专项整治", date(2025, 3, 1), date(2025, 9, 30))],
        [date(2024, 9, 10), date(2025, 9, 16)],
        [],
    ),
    RegionHistory(
        "511922",
        "南江县",
        {2024: 48_000_000, 2025: 62_000_000, 2026: 20_000_000},
        2_000_000,
        6,
        10,
        0.0,
        3,
        [],
        [date(2025, 8, 8)],
        [4, 3, 2],
    ),
]

# (plan, indicator, [(as_of, value)]) — reported by the indicator's first responsible unit
REPORTS = [
    (
        "zhenjiang-etdz-2024-2026",
        "high-value-invention-patents",
        [("2024-12-31", "760"), ("2025-12-31", "812"), ("2026-09-30", "835")],
    ),
    (
        "zhenjiang-etdz-2024-2026",
        "new-registered-trademarks",
        [("2024-12-31", "160"), ("2025-12-31", "360"), ("2026-10-31", "470")],
    ),
    (
        "zhenjiang-etdz-2024-2026",
        "trained-people",
        [("2024-12-31", "420"), ("2025-12-31", "850"), ("2026-10-31", "1180")],
    ),
    ("zhenjiang-etdz-2024-2026", "ip-standard-certified-enterprises", [("2024-12-31", "5"), ("2025-12-31", "11")]),
    ("yichang-2021-2025", "copyright-registrations", [("2024-12-31", "1650"), ("2025-12-31", "2100")]),
    ("nanjiang-2021-2025", "patent-applications", [("2024-12-31", "760"), ("2025-12-31", "1080")]),
    ("nanjiang-2021-2025", "public-awareness", [("2025-12-31", "78")]),
    ("nanjiang-2021-2025", "protection-satisfaction", [("2025-12-31", "95")]),
]


class Loader:
    def __init__(self, client: httpx.AsyncClient, signer: TokenSigner) -> None:
        self.client = client
        self.signer = signer
        self.admin = self.token("admin")
        self.limit = asyncio.Semaphore(CONCURRENCY)
        self.writes = 0
        self.plans: dict[str, dict] = {}  # key → the plan as imported (its indicators' responsible units)

    def token(self, role: str, regions: list[str] | None = None, department: str | None = None) -> str:
        sub = f"demo-{role}-{department or 'all'}"
        return self.signer.issue(sub=sub, roles=[role], regions=regions or [], department=department)

    async def post(
        self,
        path: str,
        body: dict | None = None,
        *,
        key: str,
        token: str | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> dict:
        headers = {"Authorization": f"Bearer {token or self.admin}", "Idempotency-Key": f"demo:{key}"}
        if content_type:
            headers["Content-Type"] = content_type
        # A zone the plan import just defined is usable at once: the services ask the targets
        # service for a region they do not know yet (zhichan.api.region_lookup).
        async with self.limit:
            resp = await self.client.post(path, json=body, content=content, headers=headers)
        if resp.status_code >= 400:
            raise RuntimeError(f"POST {path} → {resp.status_code}: {resp.text[:300]}")
        self.writes += 1
        return resp.json()

    async def get(self, path: str, params: dict | None = None) -> dict:
        async with self.limit:
            resp = await self.client.get(path, params=params, headers={"Authorization": f"Bearer {self.admin}"})
        if resp.status_code >= 400:
            raise RuntimeError(f"GET {path} → {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    async def post_table(self, path: str, rows: list[dict[str, str]], *, key: str) -> dict:
        """Records as an import file (CSV with the English column codes), as an office brings them;
        each row counts as a write. The demo's files are smaller than the size imported as a job."""
        answer = await self.post(path, key=key, content=records_csv(rows), content_type="text/csv")
        if "created" not in answer:  # a job's resource: the file was larger than one request imports
            raise RuntimeError(f"POST {path}: {len(rows)} rows ran as a job; the demo's files are imported at once")
        self.writes += len(rows) - 1
        return answer


async def load_demo(base_url: str, signer: TokenSigner, *, until: date | None = None) -> int:
    """Loads plans and history through the gateway at ``base_url``; returns the number of writes."""
    until = until or today()
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        loader = Loader(client, signer)
        for path in sorted(PLANS_DIR.glob("*.yaml")):
            plan = await loader.post(
                "/api/plans/import", key=f"plan:{path.stem}", content=path.read_bytes(), content_type="application/yaml"
            )
            loader.plans[plan["key"]] = plan
            if plan["status"] == "draft":
                await loader.post(f"/api/plans/{plan['key']}/activate", key=f"activate:{plan['key']}")
        await loader.post(
            "/api/statistics/import",
            key=f"statistics:{until}",
            content=statistics_published_by(until),
            content_type="text/csv",
        )
        for region in REGIONS:
            await asyncio.gather(*region_jobs(loader, region, until))
        await asyncio.gather(*report_jobs(loader, until))
        return loader.writes


def statistics_published_by(until: date) -> bytes:
    """The demo's releases published by ``until`` (a release is not known before it is published)."""
    header, *rows = csv.reader(io.StringIO(STATISTICS_FILE.read_text(encoding="utf-8")))
    published = header.index("发布日期")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [header, *(r for r in rows if date.fromisoformat(r[published]) <= until)]
    )
    return out.getvalue().encode()


def rng_for(*parts: object) -> random.Random:
    """A generator of its own per record: the history does not depend on the order in which
    concurrent requests happen to run."""
    return random.Random(":".join(str(p) for p in (SEED, *parts)))


def days_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def region_jobs(loader: Loader, region: RegionHistory, until: date):
    yield financing(loader, region, until)
    yield cases(loader, region, until)
    yield agencies(loader, region, until)


def years_of_history(until: date) -> int:
    return max(1, round((until - HISTORY_START).days / 365))


async def financing(loader, region: RegionHistory, until: date) -> None:
    """The region's pledges, transactions and matchmaking events, each kind as one file through
    its import — as an office going live brings its registers."""
    code = region.code
    pledges = []
    for year, total in region.pledge_yuan_per_year.items():
        start, end = date(year, 1, 1), min(date(year, 12, 31), until)
        if start > until:
            continue
        share = Decimal((end - start).days + 1) / Decimal((date(year, 12, 31) - start).days + 1)
        remaining = int(total * share)
        rng = rng_for("pledges", code, year)
        n = 0
        while remaining > 0:
            n += 1
            amount = min(remaining, int(region.pledge_size * rng.uniform(0.5, 1.5)) // 10_000 * 10_000 or 10_000)
            remaining -= amount
            pledges.append(pledge_row(region, year, n, amount, days_between(rng, start, end)))
    if pledges:
        await loader.post_table("/api/pledges/import", pledges, key=f"pledges:{code}:{until}")
    count = years_of_history(until) * region.transactions_per_year
    transactions = [transaction_row(region, n, until) for n in range(1, count + 1)]
    if transactions:
        await loader.post_table("/api/transactions/import", transactions, key=f"transactions:{code}:{until}")
    events = [matchmaking_row(region, n, held) for n, held in enumerate(region.matchmaking_days, 1) if held <= until]
    if events:
        await loader.post_table("/api/matchmaking-events/import", events, key=f"matchmaking:{code}:{until}")


def assets_cells(assets: list[tuple[str, str, str]]) -> dict[str, str]:
    """A record's IP rights as the import's three list columns (separated by ；)."""
    return {
        "asset_types": "；".join(t for t, _n, _t in assets),
        "asset_numbers": "；".join(n for _t, n, _ti in assets),
        "asset_titles": "；".join(title for _t, _n, title in assets),
    }


def pledge_row(region: RegionHistory, year: int, n: int, amount: int, registered: date) -> dict[str, str]:
    rng = rng_for("pledge", region.code, year, n)
    kinds = rng.choices([["patent"], ["patent", "patent"], ["trademark"], ["patent", "trademark"]], [6, 2, 1, 1])[0]
    assets = [
        (
            t,
            f"{'ZL' if t == 'patent' else 'TM'}{year}{n:04d}{i}",
            rng.choice(PATENT_TITLES) if t == "patent" else "注册商标",
        )
        for i, t in enumerate(kinds)
    ]
    return {
        "region": region.code,
        "registration_number": f"Y{year}{region.code[:6]}{n:04d}",
        "pledgor_name": f"{region.name}科技企业{n}号",
        "pledgor_uscc": build_uscc(region.code, year * 10_000 + n),
        "pledgee": rng.choice(BANKS),
        **assets_cells(assets),
        "loan_amount": f"{amount}.00",
        "registered_on": registered.isoformat(),
        "loan_term_start": registered.isoformat(),
        "loan_term_end": (registered + timedelta(days=365)).isoformat(),
        "guarantee_mode": rng.choice(["direct", "guarantor", "insurance"]),
    }


def transaction_row(region: RegionHistory, n: int, until: date) -> dict[str, str]:
    rng = rng_for("transaction", region.code, n)
    recorded = days_between(rng, HISTORY_START, until)
    kind = rng.choices(["licence", "transfer", "open_licence", "capital_contribution"], [5, 3, 1, 1])[0]
    contract = recorded - timedelta(days=rng.randint(0, 30))
    return {
        "region": region.code,
        "type": kind,
        "record_number": f"B{recorded.year}{region.code[:6]}{n:05d}",
        "grantor_name": f"{region.name}高校技术转移中心",
        "grantee_name": f"{region.name}制造企业{n}号",
        "grantee_uscc": build_uscc(region.code, 500_000 + n),
        **assets_cells([("patent", f"ZL{recorded.year}T{n:05d}", rng.choice(PATENT_TITLES))]),
        "amount": f"{rng.randint(5, 200) * 10_000}.00",
        "contract_date": max(contract, HISTORY_START).isoformat(),
        "recorded_on": recorded.isoformat(),
    }


def matchmaking_row(region: RegionHistory, n: int, held: date) -> dict[str, str]:
    rng = rng_for("matchmaking", region.code, n)
    return {
        "region": region.code,
        "title": f"{region.name}知识产权质押融资银企对接会",
        "held_on": held.isoformat(),
        "organiser": f"{region.name}市场监督管理局",
        "banks": "、".join(rng.sample(BANKS, 3)),
        "enterprises_attending": str(rng.randint(20, 80)),
        "intended_amount": f"{rng.randint(5, 50) * 1_000_000}.00",
        "signed_amount": f"{rng.randint(2, 20) * 1_000_000}.00",
    }


async def cases(loader, region: RegionHistory, until: date) -> None:
    """The region's campaigns, then its cases, each as one file through the imports, a case's row
    its history (filed, investigated, decided, closed) — as an office going live brings them."""
    running = [(name, start, end) for name, start, end in region.campaigns if start <= until]
    campaign_ids = []
    if running:
        rows = [
            {"region": region.code, "name": name, "start": start.isoformat(), "end": end.isoformat(),
             "focus": "商标侵权、假冒专利"}
            for name, start, end in running
        ]  # fmt: skip
        await loader.post_table("/api/campaigns/import", rows, key=f"campaigns:{region.code}:{until}")
        # A case names its campaign by id: the campaigns' ids, by name, as the office would look them up.
        listed = await loader.get("/api/campaigns", {"region": region.code, "limit": 100})
        ids = {c["name"]: c["id"] for c in listed["items"] if c["region"] == region.code}
        campaign_ids = [(ids[name], start, end) for name, start, end in running]
    total = years_of_history(until) * region.cases_per_year
    rows = [case_row(region, n, campaign_ids, until) for n in range(1, total + 1)]
    await loader.post_table("/api/cases/import", rows, key=f"cases:{region.code}:{until}")


def case_row(region: RegionHistory, n: int, campaigns, until: date) -> dict[str, str]:
    """One case's history up to ``until``: some still under investigation (overdue once past
    their deadline), a share decided late."""
    rng = rng_for("case", region.code, n)
    filed = days_between(rng, HISTORY_START, until)
    case_type = rng.choices(["trademark_infringement", "counterfeit_patent", "patent_infringement_dispute"], [6, 3, 1])[
        0
    ]
    procedure = (
        "administrative_adjudication" if case_type == "patent_infringement_dispute" else "administrative_penalty"
    )
    campaign = next((cid for cid, start, end in campaigns if start <= filed <= end), None)
    respondent_serial = rng.randint(1, max(3, region.cases_per_year // 3))  # some respondents come back
    row = {
        "region": region.code,
        "case_number": f"{region.name[:2]}市监立〔{filed.year}〕{n}号",
        "type": case_type,
        "procedure": procedure,
        "origin": "campaign" if campaign else rng.choice(["complaint", "inspection"]),
        "respondent_kind": "organization",
        "respondent_name": f"{region.name}商贸有限公司{respondent_serial}",
        "respondent_uscc": build_uscc(region.code, 900_000 + respondent_serial),
        "handling_unit": rng.choice(["稽查大队", "知识产权科"]),
        "campaign_id": campaign or "",
        "filed_date": filed.isoformat(),
    }
    step = filed + timedelta(days=rng.randint(1, 10))
    if step > until:
        return row
    row["investigated_date"] = step.isoformat()
    late = rng.random() < region.late_share
    decided = filed + timedelta(days=rng.randint(95, 130) if late else rng.randint(30, 80))
    if decided > until:
        return row  # still under investigation (and overdue once past its deadline)
    outcome = "penalty_decision" if procedure == "administrative_penalty" else "adjudication_infringement"
    fine = f"{rng.randint(1, 30) * 10_000}.00" if outcome == "penalty_decision" else "0.00"
    row.update(decided_date=decided.isoformat(), outcome=outcome, fine=fine)
    closed = decided + timedelta(days=rng.randint(0, 5))
    if closed <= until:
        row["closed_date"] = closed.isoformat()
    return row


async def agencies(loader, region: RegionHistory, until: date) -> None:
    """The region's agencies, filed and approved, as one file through the import; then the
    annual reports of those that reported, as another (a report names its agency by USCC)."""
    rows, reports = [], []
    for n in range(1, region.offline_agencies + 1):
        rng = rng_for("agency", region.code, n)
        filed = days_between(rng, HISTORY_START, until - timedelta(days=20))
        uscc = build_uscc(region.code, 700_000 + n)
        rows.append(
            {
                "region": region.code,
                "uscc": uscc,
                "name": f"{region.name}知识产权服务机构{n}号",
                "address": f"{region.name}科技园{n}号楼",
                "service_types": "、".join(
                    rng.sample(["patent_agency", "trademark_agency", "consulting", "operation", "legal"], 2)
                ),
                "offline": "是",
                "in_cluster": "是" if rng.random() < 0.4 else "否",
                "filed_on": filed.isoformat(),
                "approved_on": (filed + timedelta(days=rng.randint(3, 15))).isoformat(),
            }
        )
        if n <= len(region.annual_staff):
            staff = region.annual_staff[n - 1]
            reports.append(
                {
                    "agency_uscc": uscc,
                    "year": str(until.year - 1),
                    "staff": str(staff),
                    "practitioners": str(max(1, staff // 2)),
                    "service_revenue": f"{staff * 180_000}.00",
                    "filings_handled": str(staff * 40),
                }
            )
    await loader.post_table("/api/agencies/import", rows, key=f"agencies:{region.code}:{until}")
    if reports:
        await loader.post_table("/api/annual-reports/import", reports, key=f"annual-reports:{region.code}:{until}")


def report_jobs(loader: Loader, until: date):
    for plan, indicator, values in REPORTS:
        imported = loader.plans[plan]
        responsible = next(i["responsible"] for i in imported["indicators"] if i["key"] == indicator)
        if (imported.get("reporting") or {}).get("review") == "required":
            # The figures from before the platform, taken over by the office itself (an officer's report
            # counts); from now on the departments report through the rounds (round_submission).
            token, note = loader.token("officer", regions=[imported["region"]]), "历史数据"
        else:
            token, note = (
                loader.token("department", regions=[imported["region"]], department=responsible[0]),
                "部门填报",
            )

        async def submit(plan=plan, indicator=indicator, token=token, note=note, values=values) -> None:
            for as_of, value in values:  # in order: the latest report is the current value
                if date.fromisoformat(as_of) <= until:
                    await loader.post(
                        f"/api/plans/{plan}/indicators/{indicator}/reports",
                        {"as_of": as_of, "value": value, "note": note},
                        token=token,
                        key=f"report:{plan}:{indicator}:{as_of}",
                    )

        yield submit()
    yield round_submission(loader)


ROUND_PLAN, ROUND_DEPARTMENT, ROUND_INDICATOR = (
    "zhenjiang-etdz-2024-2026",
    "经开区市场监管局",
    "high-value-invention-patents",
)
# The other departments of the latest round: two report their tasks' progress and the office
# approves it; 经开区管委会 (with 镇江市知识产权局 on the operation centre) has not reported.
ROUND_TASK_REPORTS = (
    ("镇江市知识产权局", "operation-centre", "运营中心完成专利导航服务平台搭建,入驻服务机构3家"),
    ("经开区财政局", "pledge-matchmaking", "举办知识产权质押融资银企对接会1场,意向授信2000万元"),
)


async def round_submission(loader: Loader) -> None:
    """The Zhenjiang plan's latest round: two departments reported their tasks' progress and the
    office approved it; the IP authority submitted its figure, which awaits the office's review
    (待审核); 经开区管委会 has not reported. The rounds are computed from the plan's start up to
    today, so which round that is depends on the day the demo loads, and so does whether these
    reports count as on time (within the due days after the period) or late."""
    rounds = await loader.get(f"/api/plans/{ROUND_PLAN}/rounds")
    if not rounds["items"]:
        return
    latest = rounds["items"][0]
    label = latest["round"]
    submitted = {d["department"] for d in latest["departments"] if d["submission"] is not None}
    region = loader.plans[ROUND_PLAN]["region"]
    for department, task, progress in ROUND_TASK_REPORTS:
        if department in submitted:  # loaded before
            continue
        await loader.post(
            f"/api/plans/{ROUND_PLAN}/rounds/{label}/submissions",
            {"tasks": [{"task": task, "progress": progress}]},
            token=loader.token("department", regions=[region], department=department),
            key=f"round:{ROUND_PLAN}:{label}:{task}",  # a header: ASCII
        )
        await loader.post(
            f"/api/plans/{ROUND_PLAN}/rounds/{label}/submissions/{quote(department)}/approve",
            token=loader.token("officer", regions=[region]),
            key=f"round:{ROUND_PLAN}:{label}:{task}:approved",
        )
    if ROUND_DEPARTMENT in submitted:
        return
    await loader.post(
        f"/api/plans/{ROUND_PLAN}/rounds/{label}/submissions",
        {"values": [{"indicator": ROUND_INDICATOR, "value": "835"}], "note": "本季度填报,请审核"},
        token=loader.token("department", regions=[region], department=ROUND_DEPARTMENT),
        key=f"round:{ROUND_PLAN}:{label}:ip-authority",  # a header: ASCII
    )
