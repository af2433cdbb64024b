from __future__ import annotations

import re

import pytest

from omniguard.reporting import Report


def _page(lang: str) -> Report:
    rep = Report("测试 <report>", lang=lang)
    rep.heading("Numbers").kv({"a": 1, "b": None})
    rep.bar_chart(["2026-11-01", "2026-11-02"], {"allow": [3, 5], "deny": [1, 0]}, stacked=True, caption="per day")
    rep.line_chart(["w1", "w2", "w3"], {"coverage": [0.5, 0.7, 0.65]}, percent=True, y_max=1, caption="coverage")
    rep.table(["grade", "note"], [[rep.badge("sensitive", "g-sensitive"), "<b>x</b>"]], raw_columns=[0])
    return rep


def test_page_escapes_text_but_keeps_trusted_badges():
    html = _page("en").render()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert '<span class="badge g-sensitive">sensitive</span>' in html
    assert "测试 &lt;report&gt;" in html
    assert html.count('class="chart"') == 2


def test_unknown_language_refused():
    with pytest.raises(ValueError):
        Report("x", lang="fr")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_renders_in_headless_chromium(tmp_path, chromium, lang):
    path = tmp_path / f"page.{lang}.html"
    path.write_text(_page(lang).render(), encoding="utf-8")
    dom = chromium(path)
    html_tag = re.search(r"<html[^>]*>", dom).group(0)
    assert 'data-rendered="2"' in html_tag
    assert "data-error" not in html_tag
    assert ("生成时间" in dom) == (lang == "zh")
