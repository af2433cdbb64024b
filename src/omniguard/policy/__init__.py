"""The policy pack: taxonomy (categories and grades), purposes, roles and notices, as YAML."""

from omniguard.policy.loader import PolicyPack, default_pack_dir, load_pack
from omniguard.policy.models import (
    GRADES,
    Category,
    CrossBorder,
    Grade,
    GradeProtection,
    LegalBasis,
    Notice,
    NoticePurpose,
    Purpose,
    Role,
    ThirdParty,
)

__all__ = [
    "GRADES",
    "Category",
    "CrossBorder",
    "Grade",
    "GradeProtection",
    "LegalBasis",
    "Notice",
    "NoticePurpose",
    "PolicyPack",
    "Purpose",
    "Role",
    "ThirdParty",
    "default_pack_dir",
    "load_pack",
]
