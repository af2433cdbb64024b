"""Compliance: executable PIPL checks, the personal-information impact assessment, reports."""
