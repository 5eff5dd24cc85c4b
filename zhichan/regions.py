"""Regions: GB/T 2260 codes as reference data, plus custom regions (zones) added at run time.

The standard codes come from the PyPI package ``gb2260`` (its newest revision). A region
includes its descendants: a city's figures include its districts'. Custom regions such as
development zones (``321100-ETDZ``) are defined in the targets service and reach the other
processes as events; they are registered here with :meth:`RegionRegistry.add`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

LEVELS = ("province", "city", "district", "county", "zone")
LEVEL_LABELS = {"province": "省级", "city": "地市级", "district": "市辖区", "county": "县级", "zone": "园区/开发区"}
PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
CUSTOM_CODE = re.compile(r"^[0-9]{6}-[A-Z0-9]{2,16}$")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent: str | None
    custom: bool = False


class UnknownRegion(KeyError):
    pass


def _standard_regions() -> dict[str, Region]:
    from gb2260.data import data  # the newest revision is keyed None

    names: dict[int, str] = data[None]
    regions: dict[str, Region] = {}
    for num, name in names.items():
        code = f"{num:06d}"
        if name in PLACEHOLDERS:
            continue  # placeholders of the standard, not places
        if code.endswith("0000"):
            level, parent = "province", None
        elif code.endswith("00"):
            level, parent = "city", code[:2] + "0000"
        else:
            level = "district" if name.endswith("区") else "county"
            city = code[:4] + "00"
            parent = city if int(city) in names and names[int(city)] not in PLACEHOLDERS else code[:2] + "0000"
        regions[code] = Region(code, name, level, parent)
    return regions


class RegionRegistry:
    """Every known region, with descendants resolved. One per process."""

    def __init__(self) -> None:
        self._regions = dict(_standard_regions())
        self._children: dict[str | None, set[str]] = {}
        for region in self._regions.values():
            self._children.setdefault(region.parent, set()).add(region.code)

    def get(self, code: str) -> Region:
        try:
            return self._regions[code]
        except KeyError:
            raise UnknownRegion(code) from None

    def __contains__(self, code: object) -> bool:
        return code in self._regions

    def all(self) -> list[Region]:
        return sorted(self._regions.values(), key=lambda r: r.code)

    def add(self, code: str, name: str, level: str, parent: str | None) -> Region:
        """Registers a custom region (idempotent; a later definition replaces an earlier one)."""
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        if parent is not None and parent not in self._regions:
            raise UnknownRegion(parent)
        old = self._regions.get(code)
        if old is not None:
            self._children.get(old.parent, set()).discard(code)
        region = Region(code, name, level, parent, custom=old.custom if old else True)
        self._regions[code] = region
        self._children.setdefault(parent, set()).add(code)
        self.descendants.cache_clear()
        return region

    @lru_cache(maxsize=4096)  # noqa: B019 - the registry lives as long as the process
    def descendants(self, code: str) -> frozenset[str]:
        """The region and everything below it."""
        self.get(code)
        found = {code}
        stack = [code]
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return frozenset(found)

    def contains(self, ancestor: str, code: str) -> bool:
        """Whether ``code`` is ``ancestor`` or lies below it."""
        seen = 0
        current: str | None = code
        while current is not None and seen < 10:
            if current == ancestor:
                return True
            region = self._regions.get(current)
            current = region.parent if region else None
            seen += 1
        return False

    def ancestors(self, code: str) -> list[str]:
        chain = []
        current = self.get(code).parent
        while current is not None:
            chain.append(current)
            current = self._regions[current].parent
        return chain


@lru_cache
def registry() -> RegionRegistry:
    return RegionRegistry()
