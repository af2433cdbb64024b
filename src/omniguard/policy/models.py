"""Pydantic models of the policy pack (taxonomy, purposes, roles, notices).

Policy is data: compliance staff edit the YAML, and these models are the contract that keeps their
edits meaningful. Every model forbids unknown keys so a typo (``retention_day``) is an error, not a
silently ignored field.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PositiveInt, StringConstraints

# The top grade's names before 0.2 (policy packs and stores of older workspaces still say it).
LEGACY_GRADE_NAMES = ("core",)

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")]


class Grade(StrEnum):
    """Four grades, ordered: L1 public, L2 internal, L3 sensitive, L4 highly sensitive (极敏感:
    credentials, card-security data). The top grade was called "core" before 0.2; that word reads
    as the state's 核心数据 under the Data Security Law, so it is accepted on load (old policy
    packs and stores) and never written. "Important data" (重要数据) is not a grade: it is a flag
    on a dataset with its own rules."""

    public = "public"
    internal = "internal"
    sensitive = "sensitive"
    highly_sensitive = "highly_sensitive"

    @classmethod
    def _missing_(cls, value: object) -> Grade | None:
        return cls.highly_sensitive if value in LEGACY_GRADE_NAMES else None

    @property
    def rank(self) -> int:
        return _GRADE_ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Grade):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Grade):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Grade):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Grade):
            return NotImplemented
        return self.rank >= other.rank

    __hash__ = str.__hash__


_GRADE_ORDER = [Grade.public, Grade.internal, Grade.sensitive, Grade.highly_sensitive]
GRADES: tuple[Grade, ...] = tuple(_GRADE_ORDER)

Protection = Literal["clear", "mask", "generalize", "tokenize", "encrypt", "redact", "drop"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- taxonomy -----------------------------------------------------------------------------------


class Category(_Model):
    id: Identifier
    name: str
    name_zh: str
    grade: Grade
    personal: bool = True
    pipl_sensitive: bool = False
    examples: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    default_protection: Protection = "mask"
    standard_refs: list[str] = Field(default_factory=list)


class Taxonomy(_Model):
    version: str
    categories: list[Category]


# --- purposes -----------------------------------------------------------------------------------


class LegalBasis(StrEnum):
    """PIPL Art. 13 legal bases."""

    consent = "consent"  # 13(1)
    contract = "contract"  # 13(2) necessary to conclude or perform a contract / HR management
    legal_obligation = "legal_obligation"  # 13(3)
    public_health = "public_health"  # 13(4) emergencies, protection of life, health, property
    news_reporting = "news_reporting"  # 13(5)
    public_information = "public_information"  # 13(6) information the person already disclosed
    other_law = "other_law"  # 13(7)


class ThirdParty(_Model):
    name: str
    # entrusted: a processor acting for us (Art. 21); handler: an independent handler we provide
    # data to (Art. 23, separate consent); joint: joint handlers (Art. 20).
    role: Literal["entrusted", "handler", "joint"]
    country: str = "CN"


class CrossBorder(_Model):
    countries: list[str] = Field(min_length=1)
    recipients: list[str] = Field(default_factory=list)
    # Art. 38: security assessment, certification, the standard contract, or an exemption of the
    # 2024 Provisions. null = nothing recorded yet (the guard denies, `check` reports).
    mechanism: Literal["security_assessment", "certification", "standard_contract", "exempt"] | None = None
    reference: str | None = None
    recorded: dt.date | None = None


class Purpose(_Model):
    id: Identifier
    name: str
    name_zh: str
    description: str = ""
    legal_basis: LegalBasis
    separate_consent: bool = False
    categories: list[Identifier] = Field(min_length=1)
    max_grade: Grade = Grade.sensitive
    retention_days: PositiveInt
    third_parties: list[ThirdParty] = Field(default_factory=list)
    cross_border: CrossBorder | None = None
    # Art. 24: personalised push / automated decisions, which the person may refuse at any time.
    automated_decision: bool = False
    joint_profiling: bool = False


class Purposes(_Model):
    version: str
    purposes: list[Purpose]


# --- roles --------------------------------------------------------------------------------------


class GradeProtection(_Model):
    public: Protection = "clear"
    internal: Protection = "mask"
    sensitive: Protection = "tokenize"
    highly_sensitive: Protection = Field(
        default="drop", validation_alias=AliasChoices("highly_sensitive", *LEGACY_GRADE_NAMES))

    def for_grade(self, grade: Grade | str) -> Protection:
        return getattr(self, Grade(grade).value)


class Role(_Model):
    id: Identifier
    description: str = ""
    purposes: list[str] = Field(min_length=1)  # purpose ids, or "*"
    protection: GradeProtection = Field(default_factory=GradeProtection)
    decrypt: bool = False
    export: bool = False
    working_hours: tuple[int, int] | None = None  # local hours [start, end) when access is expected

    def may_use(self, purpose_id: str) -> bool:
        return "*" in self.purposes or purpose_id in self.purposes


class Roles(_Model):
    version: str
    default_role: Identifier
    roles: list[Role]


# --- notices ------------------------------------------------------------------------------------


class NoticePurpose(_Model):
    """The terms one notice version states for one purpose. Omitted terms are filled from the
    purpose definition when the pack loads, so each notice version is a concrete snapshot."""

    purpose: Identifier
    categories: list[Identifier] | None = None
    third_parties: list[str] | None = None
    retention_days: PositiveInt | None = None


class Notice(_Model):
    id: Identifier
    version: PositiveInt
    language: str = "zh-CN"
    title: str
    text: str  # path of the notice text, relative to the policies folder
    published: dt.date
    purposes: list[NoticePurpose] = Field(min_length=1)


class Notices(_Model):
    version: str
    notices: list[Notice]
