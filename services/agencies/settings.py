"""The supervision rules an office may set (environment, prefix ``AGENCIES_``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.agencies.domain import CREDIT_GRADES, DEFAULT_GRADE_WEIGHTS, DEFAULT_HANDLING_WORKING_DAYS


class AgenciesRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCIES_", extra="ignore")

    complaint_handling_working_days: int = Field(
        DEFAULT_HANDLING_WORKING_DAYS,
        ge=1,
        le=250,
        description="Working days a complaint may take, counted from the day after it is received.",
    )
    draw_grade_weights: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_GRADE_WEIGHTS),
        description='Random inspections: draw weight per credit grade, JSON such as {"A":1,"B":1,"C":2,"D":3}.',
    )

    @field_validator("draw_grade_weights")
    @classmethod
    def _every_grade_a_positive_weight(cls, value: dict[str, int]) -> dict[str, int]:
        if set(value) != set(CREDIT_GRADES) or any(w < 1 for w in value.values()):
            raise ValueError("give every grade A, B, C, D a positive integer weight")
        return value
