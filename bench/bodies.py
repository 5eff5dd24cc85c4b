"""Valid create requests, one per serial, so concurrent writers never collide on a unique key."""

from __future__ import annotations

from zhichan.uscc import build_uscc

REGION = "321102"  # 京口区, 镇江


def agency(serial: int, region: str = REGION) -> dict:
    return {
        "name": f"镇江知信专利代理事务所{serial}",
        "uscc": build_uscc(region, serial),
        "region": region,
        "address": "镇江市京口区学府路1号",
        "service_types": ["patent_agency", "consulting"],
        "licence_numbers": [f"32{serial:06d}"],
        "offline": True,
        "in_cluster": False,
        "brand_level": "none",
        "filed_on": "2025-03-03",
    }


def case(serial: int, region: str = REGION) -> dict:
    return {
        "region": region,
        "case_number": f"镇京市监知立〔2025〕{serial}号",
        "type": "trademark_infringement",
        "procedure": "administrative_penalty",
        "origin": "complaint",
        "respondent": {"name": f"镇江某某商贸有限公司{serial}", "uscc": build_uscc(region, serial)},
        "complainant": {"name": "某某（中国）有限公司"},
        "filed_date": "2025-03-03",
        "handling_unit": "京口分局",
    }


def pledge(serial: int, region: str = REGION) -> dict:
    return {
        "region": region,
        "registration_number": f"Y2025{serial:07d}",
        "pledgor_name": f"镇江某某新材料有限公司{serial}",
        "pledgor_uscc": build_uscc(region, serial),
        "pledgee": "中国银行镇江分行",
        "assets": [{"type": "patent", "number": f"ZL2023100{serial:05d}.1", "title": "一种复合材料"}],
        "loan_amount": "5000000.00",
        "registered_on": "2025-03-01",
        "loan_term_start": "2025-03-01",
        "loan_term_end": "2026-02-28",
        "guarantee_mode": "direct",
        "valuation": "8000000.00",
        "appraisal_agency_uscc": build_uscc("320311", 900),
    }


BODIES = {"agency": agency, "case": case, "pledge": pledge}
PATHS = {"agency": "/agencies", "case": "/cases", "pledge": "/pledges"}
