"""`audit report`: who accessed what, for which purpose, denials and decrypts, per day (HTML)."""

from __future__ import annotations

import collections
import html
from collections.abc import Iterable
from typing import Any

from omniguard.config import iso_utc


def summarise(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    per_day: collections.Counter[str] = collections.Counter()
    per_day_deny: collections.Counter[str] = collections.Counter()
    by_actor_purpose: collections.Counter[tuple[str, str, str]] = collections.Counter()
    by_action: collections.Counter[str] = collections.Counter()
    denials: list[dict[str, Any]] = []
    decrypts: list[dict[str, Any]] = []
    n = 0
    for ev in events:
        n += 1
        day = ev["ts"][:10]
        per_day[day] += 1
        by_action[ev["action"]] += 1
        by_actor_purpose[(ev["actor"], ev.get("role") or "", ev.get("purpose") or "")] += 1
        if ev["decision"] == "deny":
            per_day_deny[day] += 1
            denials.append(ev)
        if ev["action"].startswith("decrypt") or ev["action"].endswith(".decrypt"):
            decrypts.append(ev)
    return {
        "events": n,
        "per_day": sorted(per_day.items()),
        "denials_per_day": dict(per_day_deny),
        "by_action": by_action.most_common(),
        "by_actor_purpose": [
            {"actor": a, "role": r, "purpose": p, "events": c} for (a, r, p), c in by_actor_purpose.most_common()
        ],
        "denials": denials[-200:],
        "decrypts": decrypts[-200:],
    }


_CSS = """
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}td,th{border-bottom:1px solid #e4e7eb;padding:.3rem .6rem;text-align:left}
th{background:#f5f7fa}.bar{background:#3e7bfa;height:.8rem;display:inline-block}.deny{background:#d64545}
.muted{color:#7b8794;font-size:.85rem}
"""


def render_html(summary: dict[str, Any], *, title: str, verify: dict[str, Any] | None = None) -> str:
    e = html.escape
    peak = max((c for _, c in summary["per_day"]), default=1)
    rows_day = "".join(
        f"<tr><td>{e(d)}</td><td>{c}</td><td>{summary['denials_per_day'].get(d, 0)}</td>"
        f"<td><span class='bar' style='width:{int(300 * c / peak)}px'></span>"
        f"<span class='bar deny' style='width:{int(300 * summary['denials_per_day'].get(d, 0) / peak)}px'></span></td></tr>"
        for d, c in summary["per_day"]
    )
    rows_who = "".join(
        f"<tr><td>{e(r['actor'])}</td><td>{e(r['role'])}</td><td>{e(r['purpose'])}</td><td>{r['events']}</td></tr>"
        for r in summary["by_actor_purpose"]
    )
    rows_action = "".join(f"<tr><td>{e(a)}</td><td>{c}</td></tr>" for a, c in summary["by_action"])

    def ev_rows(evs: list[dict[str, Any]]) -> str:
        return "".join(
            f"<tr><td>{ev['seq']}</td><td>{e(ev['ts'])}</td><td>{e(ev['actor'])}</td><td>{e(ev.get('role', ''))}</td>"
            f"<td>{e(ev['action'])}</td><td>{e(ev.get('purpose', ''))}</td>"
            f"<td>{e(ev.get('resource', {}).get('dataset', ''))}</td><td>{ev.get('rows', '')}</td>"
            f"<td>{e(ev.get('reason', ''))}</td></tr>"
            for ev in evs
        ) or "<tr><td colspan=9 class='muted'>none</td></tr>"

    head = "<tr><th>seq</th><th>time (UTC)</th><th>actor</th><th>role</th><th>action</th><th>purpose</th><th>dataset</th><th>rows</th><th>reason</th></tr>"
    integrity = ""
    if verify is not None:
        state = "intact" if verify["ok"] else f"DAMAGED: {e(verify['damage'][0]['kind'])} at seq {verify['damage'][0]['seq']}"
        integrity = f"<p><b>Chain:</b> {state}; {verify['events']} events, {verify['checkpoints_checked']} checkpoints checked.</p>"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{e(title)}</h1><p class="muted">Generated {iso_utc()} · {summary['events']} events</p>{integrity}
<h2>Events per day</h2><table><tr><th>day</th><th>events</th><th>denials</th><th></th></tr>{rows_day}</table>
<h2>Who accessed, in which role, for which purpose</h2><table><tr><th>actor</th><th>role</th><th>purpose</th><th>events</th></tr>{rows_who}</table>
<h2>Actions</h2><table><tr><th>action</th><th>events</th></tr>{rows_action}</table>
<h2>Denials</h2><table>{head}{ev_rows(summary['denials'])}</table>
<h2>Decrypts</h2><table>{head}{ev_rows(summary['decrypts'])}</table>
</body></html>
"""
