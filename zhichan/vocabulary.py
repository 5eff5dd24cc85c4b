"""Vocabularies: each enum of the platform declared once, as its codes and their Chinese labels.

From one :class:`Vocabulary` come the three things that used to be written out separately and
kept equal by hand: the type of a request or response field (``ASSET_TYPES.literal``, a
``Literal`` of the codes), the labels ``/meta/enums`` serves (the vocabulary itself, a mapping of
code to label), and the values a metric of the catalogue may be filtered by
(``ASSET_TYPES.codes``).

A vocabulary that only one service uses is declared in that service's ``domain.py``. One that
more than one package reads — a service's field and a filter of :mod:`zhichan.metrics_catalogue`,
which the targets service checks plans against and the gateway computes — is declared below:
the kernel imports no service, so it is declared where every package can import it, and the
owning service's ``domain.py`` re-exports it under its own name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal


class Vocabulary(Mapping[str, str]):
    """Codes → Chinese labels, in the order given (which is the order of lists and of the
    catalogue's values). Read-only."""

    __slots__ = ("_labels", "codes", "literal")

    def __init__(self, labels: Mapping[str, str]) -> None:
        if not labels:
            raise ValueError("a vocabulary has at least one code")
        self._labels = dict(labels)
        self.codes: tuple[str, ...] = tuple(self._labels)
        # Literal[("a", "b")] is Literal["a", "b"]: the JSON Schema of a field of this type is the
        # enum of the codes, as a Literal written out by hand gives.
        self.literal: Any = Literal[self.codes]

    def __getitem__(self, code: str) -> str:
        return self._labels[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        return f"Vocabulary({self._labels!r})"

    def code_of(self, text: str) -> str:
        """The code itself or the code of its Chinese label, as a spreadsheet cell may give either;
        ValueError naming the choices otherwise."""
        if text in self._labels:
            return text
        for code, label in self._labels.items():
            if text == label:
                return code
        choices = ", ".join(f"{code} {label}" for code, label in self._labels.items())
        raise ValueError(f"{text!r} is none of: {choices}")


# --- vocabularies more than one package reads -----------------------------------------------

# The types of IP a pledge, a transaction or an insurance policy is about (financing's asset
# types; the catalogue's ``ip_type`` filter).
IP_TYPES = Vocabulary(
    {
        "patent": "专利",
        "trademark": "商标",
        "copyright": "著作权",
        "gi": "地理标志",
        "layout_design": "集成电路布图设计",
    }
)
PLEDGE_KINDS = Vocabulary(
    {
        "patent": "专利质押",
        "trademark": "商标质押",
        "copyright": "著作权质押",
        "mixed": "混合质押",
        "portfolio": "组合质押",
    }
)
TRANSACTION_TYPES = Vocabulary(
    {
        "transfer": "转让",
        "licence": "许可",
        "open_licence": "开放许可",
        "capital_contribution": "作价入股",
    }
)

# Case types, procedures and how a case came in (the enforcement service's; filters of the case
# metrics).
CASE_TYPES = Vocabulary(
    {
        "trademark_infringement": "商标侵权",
        "counterfeit_patent": "假冒专利",
        "patent_infringement_dispute": "专利侵权纠纷",
        "gi_infringement": "地理标志侵权",
        "copyright": "侵犯版权",
        "trade_secret": "侵犯商业秘密",
        "passing_off": "仿冒混淆",
        "plant_variety": "植物新品种",
        "abnormal_patent_application": "非正常专利申请",
        "malicious_trademark_filing": "商标恶意注册",
        "agency_misconduct": "代理机构违法违规",
    }
)
CASE_PROCEDURES = Vocabulary(
    {"administrative_penalty": "行政处罚", "administrative_adjudication": "行政裁决", "mediation": "调解"}
)
CASE_ORIGINS = Vocabulary(
    {
        "complaint": "投诉举报",
        "inspection": "检查发现",
        "campaign": "专项行动",
        "referral": "移送",
        "online_monitoring": "网络监测",
    }
)

# What an IP service agency offers, its brand level (品牌服务机构), its practitioners' types and
# what a random inspection of it found (the agencies service's; filters of the agency metrics).
AGENCY_SERVICE_TYPES = Vocabulary(
    {
        "patent_agency": "专利代理",
        "trademark_agency": "商标代理",
        "legal": "法律",
        "information": "信息检索分析",
        "operation": "运营",
        "valuation": "评估",
        "navigation": "专利导航",
        "consulting": "咨询",
        "training": "培训",
        "finance": "金融",
    }
)
BRAND_LEVELS = Vocabulary(
    {"none": "无", "municipal": "市级品牌机构", "provincial": "省级品牌机构", "national": "国家级品牌机构"}
)
PRACTITIONER_TYPES = Vocabulary({"patent_attorney": "专利代理师", "trademark_agent": "商标代理人"})
INSPECTION_FINDINGS = Vocabulary(
    {"compliant": "未发现问题", "rectification_ordered": "责令整改", "penalised": "予以处罚"}
)
