"""Executable compliance rules, each naming the PIPL article it enforces.

A rule is a small function registered with :func:`rule`; it looks at the workspace (policy pack,
inventory, consent registry, audit log) and returns findings, or ``None`` when it does not apply
(e.g. nothing scanned yet). ``run_checks`` runs them all and writes one audit event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

SEVERITIES = ("high", "medium", "low")


@dataclasses.dataclass(frozen=True)
class Finding:
    rule: str
    article: str
    severity: str
    target: str  # what the finding is about: purpose:<id>, dataset:<name>#<column>, role:<id>, actor:<name>
    message: str  # never a personal value


@dataclasses.dataclass
class RuleResult:
    rule: str
    article: str
    title: str
    status: str  # pass | fail | n/a
    findings: list[Finding] = dataclasses.field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "findings": [dataclasses.asdict(f) for f in self.findings]}


@dataclasses.dataclass
class CheckContext:
    ws: Any
    now: dt.datetime
    since: dt.datetime
    timezone: str = "Asia/Shanghai"
    bulk_export_rows: int = 100_000
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    def events(self) -> list[dict[str, Any]]:
        """Audit events in the checked window (read once, shared by the audit-log rules)."""
        if "events" not in self._cache:
            from omniguard.config import iso_utc

            self._cache["events"] = list(self.ws.audit.query(since=iso_utc(self.since)))
        return self._cache["events"]


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    article: str
    title: str
    title_zh: str
    fn: Callable[[CheckContext], list[Finding] | None]

    def run(self, ctx: CheckContext) -> RuleResult:
        findings = self.fn(ctx)
        if findings is None:
            return RuleResult(self.id, self.article, self.title, "n/a", note="nothing to check yet")
        return RuleResult(self.id, self.article, self.title, "fail" if findings else "pass", list(findings))

    def finding(self, severity: str, target: str, message: str) -> Finding:
        assert severity in SEVERITIES
        return Finding(self.id, self.article, severity, target, message)


RULES: dict[str, Rule] = {}


def rule(rule_id: str, article: str, title: str, title_zh: str) -> Callable:
    """Register a check. The function receives the context and the Rule (to build findings)."""

    def deco(fn: Callable[[CheckContext, Rule], list[Finding] | None]) -> Callable:
        r: Rule
        r = Rule(rule_id, article, title, title_zh, lambda ctx: fn(ctx, r))
        RULES[rule_id] = r
        return fn

    return deco


@functools.cache
def _load_rule_modules() -> None:
    import importlib
    import pkgutil

    import omniguard.compliance as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("rules_"):
            importlib.import_module(f"omniguard.compliance.{info.name}")


def all_rules() -> dict[str, Rule]:
    _load_rule_modules()
    return dict(RULES)


def run_checks(ws: Any, *, only: list[str] | None = None, since_days: int = 90, now: dt.datetime | None = None,
               timezone: str = "Asia/Shanghai", bulk_export_rows: int = 100_000) -> list[RuleResult]:
    from omniguard.errors import InputError

    rules = all_rules()
    unknown = [r for r in only or [] if r not in rules]
    if unknown:
        raise InputError(f"unknown rule {unknown[0]!r} (see `omniguard check --list`)")
    now = now or dt.datetime.now(dt.UTC)
    ctx = CheckContext(ws, now, now - dt.timedelta(days=since_days), timezone, bulk_export_rows)
    results = [r.run(ctx) for rid, r in sorted(rules.items()) if not only or rid in only]
    failed = [r for r in results if r.status == "fail"]
    ws.audit.record("compliance.check", decision="deny" if failed else "allow",
                    reason=f"{len(failed)} rule(s) failed" if failed else "",
                    details={"rules": len(results), "failed": [r.rule for r in failed],
                             "findings": sum(len(r.findings) for r in results)})
    return results
