"""Synthetic consent histories of a retailer's members, for the demo, tests and benchmarks.

Vectorised (numpy): a million events take about a second. Members are ``M`` + 7 digits; events
fall between the default notices' publication (2026-01-01) and ``end``; about 2% of members state
a birth date, some of them children, for whom a guardian consents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# (purpose, notice, share of grants, separate)
_PLAN = (
    ("analytics", "privacy-notice@1", 0.35, False),
    ("personalised_marketing", "privacy-notice@1", 0.35, False),
    ("joint_profiling", "joint-profiling-consent@1", 0.18, True),
    ("cross_border_service", "cross-border-consent@1", 0.07, True),
    ("health_services", "health-consent@1", 0.05, True),
)
_CHANNELS = np.array(["app", "mini-program", "web", "store", "call-centre"])


def member_id(i: np.ndarray | int) -> np.ndarray | str:
    if isinstance(i, int | np.integer):
        return f"M{int(i):07d}"
    return np.char.add("M", np.char.zfill(np.asarray(i).astype(str), 7))


def consent_events(n_events: int, n_subjects: int | None = None, *, seed: int = 7,
                   start: str = "2026-01-02", end: str = "2026-11-01", withdraw_share: float = 0.08,
                   opt_out_share: float = 0.03, chinese_headers: bool = False) -> pd.DataFrame:
    """A frame of consent events in the import format (text columns)."""
    rng = np.random.default_rng(seed)
    n_subjects = n_subjects or max(1, n_events // 2)
    subj = rng.integers(0, n_subjects, n_events)
    kind = rng.random(n_events)
    shares = np.cumsum([p[2] for p in _PLAN])
    plan_idx = np.searchsorted(shares, rng.random(n_events) * shares[-1])
    purposes = np.array([p[0] for p in _PLAN])[plan_idx]
    notices = np.array([p[1] for p in _PLAN])[plan_idx]
    separate = np.array([p[3] for p in _PLAN])[plan_idx]
    action = np.full(n_events, "grant", dtype=object)
    action[kind < withdraw_share] = "withdraw"
    opt = (kind >= withdraw_share) & (kind < withdraw_share + opt_out_share)
    purposes[opt] = "personalised_marketing"
    action[opt] = "opt_out"
    t0, t1 = pd.Timestamp(start, tz="UTC").value // 10**3, pd.Timestamp(end, tz="UTC").value // 10**3
    ts = pd.to_datetime(np.sort(rng.integers(t0, t1, n_events)) * 1000, utc=True)
    grant = action == "grant"
    frame = pd.DataFrame({
        "event_id": np.char.add("E", np.char.zfill(np.arange(n_events).astype(str), 9)),
        "subject_id": member_id(subj),
        "purpose": purposes,
        "action": action,
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "notice": np.where(grant, notices, ""),
        "separate": np.where(grant & separate, "true", "false"),
        "channel": _CHANNELS[rng.integers(0, len(_CHANNELS), n_events)],
    })
    # ~2% of members state a birth date; one in five of those is a child, whose guardian consents.
    states_birth = (subj % 50 == 0) & grant
    child = states_birth & (subj % 250 == 0)
    years = np.where(child, 2015, 1960 + subj % 45)
    frame["birth_date"] = np.where(states_birth, np.char.add(years.astype(str), "-06-15"), "")
    frame["guardian_ref"] = np.where(child, np.char.add("G", subj.astype(str)), "")
    frame["evidence"] = np.where(grant & (kind > 0.9), '{"shown":"notice screen","accepted":"tap"}', "")
    if chinese_headers:
        frame = frame.rename(columns={"event_id": "流水号", "subject_id": "会员编号", "purpose": "处理目的",
                                      "action": "操作", "ts": "发生时间", "notice": "告知版本",
                                      "separate": "单独同意", "channel": "渠道", "birth_date": "出生日期",
                                      "guardian_ref": "监护人", "evidence": "证据"})
    return frame
