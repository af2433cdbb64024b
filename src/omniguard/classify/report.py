"""A readable HTML report of scanned datasets: per dataset its flags, then every column with its
entity, category, grade (coloured), confidence, prevalence and evidence. Everything is escaped;
evidence holds shapes and counts only, never values."""

from __future__ import annotations

import html
from typing import Any

GRADE_COLOURS = {"public": "#2e7d32", "internal": "#1565c0", "sensitive": "#ef6c00", "highly_sensitive": "#c62828"}
_FLAG_TEXT = {
    "reidentification_kit": "Re-identifiable: name + ID or mobile + address in one table",
    "sensitive_volume_10k": "Sensitive PI of ≥10,000 individuals (cross-border security assessment threshold)",
    "pi_volume_1m": "PI of ≥1,000,000 individuals (cross-border security assessment threshold)",
    "important_data_candidate": "PI of ≥10 million individuals: important-data duties may apply (confirm by hand)",
    "minors": "Contains personal information of children under 14 (PIPL Art. 28, 31)",
}

_CSS = """
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9em} th,td{border:1px solid #ddd;padding:4px 6px;
vertical-align:top;text-align:left} th{background:#f5f5f5}
.grade{color:#fff;border-radius:3px;padding:1px 6px;font-weight:600}
.flag{background:#fff3e0;border-left:4px solid #ef6c00;padding:4px 8px;margin:4px 0}
.muted{color:#777} .ev{font-size:.85em;color:#444} .ovr{font-weight:600;color:#6a1b9a}
"""


def _grade(g: str) -> str:
    return f'<span class="grade" style="background:{GRADE_COLOURS.get(g, "#555")}">{html.escape(g)}</span>'


def render_dataset(rec: dict[str, Any]) -> str:
    e = html.escape
    out = [f"<h2>{e(rec['dataset'])} {_grade(rec['grade'])}</h2>",
           f"<p class='muted'>{rec['rows']:,} rows, about {rec.get('individuals', rec['rows']):,} individuals; "
           f"{rec.get('sample', '')} values sampled per column"
           + (f"; scanned {e(str(rec['scanned_at']))} by {e(str(rec['scanned_by']))}" if rec.get("scanned_at") else "")
           + "</p>"]
    for key, text in _FLAG_TEXT.items():
        if rec.get("flags", {}).get(key):
            out.append(f"<div class='flag'>{e(text)}</div>")
    out.append("<table><tr><th>column</th><th>entity</th><th>category</th><th>grade</th><th>confidence</th>"
               "<th>prevalence</th><th>evidence</th></tr>")
    for c in rec["columns"]:
        entity = e(c["entity"] or "–") + (f"<br><span class='ev'>contains {e(', '.join(c['contains']))}</span>"
                                          if c.get("contains") else "")
        category = e(c["category"] or "–")
        if c.get("overridden"):
            category = (f"<span class='ovr'>{category}</span><br><span class='ev'>set by a person; scan said "
                        f"{e(c.get('detected_category') or '–')}</span>")
        ev = "<br>".join(e(x) for x in c.get("evidence", []))
        out.append(f"<tr><td>{e(c['name'])}</td><td>{entity}</td><td>{category}</td><td>{_grade(c['grade'])}</td>"
                   f"<td>{c['confidence']:.2f}</td><td>{c['prevalence']:.2f}</td><td class='ev'>{ev}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def render_html(records: list[dict[str, Any]], title: str = "omniguard data inventory") -> str:
    body = "\n".join(render_dataset(r) for r in records)
    legend = " ".join(_grade(g) for g in GRADE_COLOURS)
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1><p>Grades: {legend}</p>{body}"
            "</body></html>\n")
