"""Request and response models of the agencies API."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.agencies.domain import SERVICE_TYPES
from zhichan.regions import registry
from zhichan.uscc import validate_uscc

ServiceType = Literal[
    "patent_agency",
    "trademark_agency",
    "legal",
    "information",
    "operation",
    "valuation",
    "navigation",
    "consulting",
    "training",
    "finance",
]
BrandLevel = Literal["none", "municipal", "provincial", "national"]
Status = Literal["filed", "active", "suspended", "deregistered"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _known_region(code: str) -> str:
    if code not in registry():
        raise ValueError(f"unknown region code {code!r} (GB/T 2260 or a custom region defined in targets)")
    return code


RegionCode = Annotated[str, AfterValidator(_known_region)]
USCC = Annotated[str, AfterValidator(validate_uscc)]
assert set(ServiceType.__args__) == set(SERVICE_TYPES)  # the API and the domain name the same types


class AgencyBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["镇江市知信专利代理事务所"])
    address: str | None = Field(None, max_length=500)
    service_types: list[ServiceType] = Field(min_length=1, examples=[["patent_agency", "consulting"]])
    licence_numbers: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] = []
    offline: bool = Field(False, description="Has offline premises (线下)")
    in_cluster: bool = Field(False, description="Located in a service cluster (集聚区)")
    brand_level: BrandLevel = "none"

    @field_validator("service_types")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class AgencyCreate(AgencyBase):
    uscc: USCC = Field(description="统一社会信用代码 (GB 32100-2015)", examples=["91321191MA1MBD3K7X"])
    region: RegionCode = Field(examples=["321100"])
    filed_on: date | None = Field(None, description="Filing date (备案日期); default today")


class AgencyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    address: str | None = Field(None, max_length=500)
    service_types: list[ServiceType] | None = Field(None, min_length=1)
    licence_numbers: list[str] | None = None
    offline: bool | None = None
    in_cluster: bool | None = None
    brand_level: BrandLevel | None = None


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date | None = Field(None, description="Business date the change takes effect; default today")
    reason: str | None = Field(None, max_length=1000)


class StatusChangePublic(BaseModel):
    status: Status
    on: date
    at: datetime
    actor: str | None = None
    reason: str | None = None


class AgencyPublic(BaseModel):
    id: str
    name: str
    uscc: str
    region: str
    address: str | None
    service_types: list[ServiceType]
    licence_numbers: list[str]
    offline: bool
    in_cluster: bool
    brand_level: BrandLevel
    status: Status
    filed_on: date
    status_history: list[StatusChangePublic]
    version: int
    created_at: datetime
    updated_at: datetime


class AgencyList(BaseModel):
    items: list[AgencyPublic]
    next_cursor: str | None = None
