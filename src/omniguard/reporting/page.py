"""The report page builder and its two languages."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from omniguard.config import iso_utc
from omniguard.reporting import svg

# Labels shared by every report; a report adds its own with Report(extra_text=...).
TEXT: dict[str, dict[str, str]] = {
    "generated": {"en": "Generated", "zh": "生成时间"},
    "none": {"en": "none", "zh": "无"},
    "events": {"en": "events", "zh": "条事件"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
}

_CSS = """
:root{--ink:#1f2933;--muted:#7b8794;--line:#e4e7eb;--ok:#2f9e44;--bad:#d64545;--warn:#f08c00}
body{font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem auto;max-width:1100px;color:var(--ink);padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid var(--line);padding-bottom:.3rem}
table{border-collapse:collapse;font-size:.88rem;margin:.6rem 0}td,th{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f7fa}.muted{color:var(--muted);font-size:.85rem}.kv td:first-child{color:var(--muted)}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.78rem;color:#fff}
.g-public{background:#868e96}.g-internal{background:#3e7bfa}.g-sensitive{background:#f08c00}.g-highly_sensitive{background:#d64545}
.ok{background:var(--ok)}.bad{background:var(--bad)}.warn{background:var(--warn)}
figure{margin:1rem 0}figcaption{font-size:.85rem;color:var(--muted)}
"""

_PROBE = """<script>
window.addEventListener('error',function(e){document.documentElement.setAttribute('data-error',String(e.message||'error'));});
document.addEventListener('DOMContentLoaded',function(){document.documentElement.setAttribute('data-rendered',String(document.querySelectorAll('svg.chart').length));});
</script>"""


def tr(key: str, lang: str, extra: dict[str, dict[str, str]] | None = None) -> str:
    table = {**TEXT, **(extra or {})}
    entry = table.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry.get("en") or key


class Report:
    """Append sections in order, then ``render()``. All text is escaped here."""

    def __init__(self, title: str, *, lang: str = "en", subtitle: str = "", extra_text: dict | None = None):
        if lang not in ("en", "zh"):
            raise ValueError("lang must be 'en' or 'zh'")
        self.title, self.lang, self.subtitle = title, lang, subtitle
        self._extra = extra_text or {}
        self._parts: list[str] = []

    def t(self, key: str) -> str:
        return tr(key, self.lang, self._extra)

    def heading(self, text: str) -> Report:
        self._parts.append(f"<h2>{html.escape(text)}</h2>")
        return self

    def paragraph(self, text: str, *, muted: bool = False) -> Report:
        cls = ' class="muted"' if muted else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    def badge(self, text: str, kind: str) -> str:
        """Markup for a coloured badge, to pass inside a table cell via ``raw=True`` rows."""
        return f'<span class="badge {html.escape(kind)}">{html.escape(text)}</span>'

    def kv(self, items: dict[str, Any]) -> Report:
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_cell(v))}</td></tr>" for k, v in items.items())
        self._parts.append(f'<table class="kv">{rows}</table>')
        return self

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, raw_columns: Sequence[int] = ()) -> Report:
        """``raw_columns``: indexes whose cells are trusted markup (badges built by this class)."""
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{v if i in raw_columns else html.escape(_cell(v))}</td>" for i, v in enumerate(r))
            + "</tr>"
            for r in rows
        ) or f'<tr><td colspan="{len(columns)}" class="muted">{self.t("none")}</td></tr>'
        self._parts.append(f"<table><tr>{head}</tr>{body}</table>")
        return self

    def bar_chart(self, labels: Sequence[str], series: dict[str, Sequence[float]], *, caption: str = "",
                  stacked: bool = False) -> Report:
        self._parts.append(f"<figure>{svg.bar_chart(labels, series, title=caption, stacked=stacked)}"
                           f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        return self

    def line_chart(self, labels: Sequence[str], series: dict[str, Sequence[float]], *, caption: str = "",
                   y_max: float | None = None, percent: bool = False) -> Report:
        self._parts.append(f"<figure>{svg.line_chart(labels, series, title=caption, y_max=y_max, percent=percent)}"
                           f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        return self

    def render(self) -> str:
        lang = "zh-CN" if self.lang == "zh" else "en"
        sub = f"<p>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style>{_PROBE}</head><body>"
                f"<h1>{html.escape(self.title)}</h1>{sub}"
                f'<p class="muted">{self.t("generated")} {iso_utc()[:19]} UTC · omniguard</p>'
                + "".join(self._parts) + "</body></html>\n")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list | tuple):
        return ", ".join(_cell(x) for x in v)
    return str(v)
