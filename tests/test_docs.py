"""The docs cannot drift: docs/cli.md is what the commands say, and every relative link in the
docs and the README points to a file that exists (and, for a #fragment into a Markdown page, to a
heading that exists)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def test_cli_reference_is_current():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def _links(page: Path) -> list[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    return _LINK.findall(text)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped (word characters, '-' and spaces kept),
    spaces to '-', a -N suffix for repeats."""
    seen: dict[str, int] = {}
    out = set()
    for line in _FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(page):
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif fragment and dest.suffix == ".md" and fragment not in _anchors(dest):
            broken.append(f"{target} (no heading #{fragment})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_the_link_checker_sees_links():
    """Guard against a checker that passes because it finds nothing."""
    links = _links(ROOT / "docs" / "index.md")
    assert "guide-compliance-officer.md" in links and "formats/README.md" in links
    assert "1100-answer-data-subject-requests-art-44-47-50" in _anchors(ROOT / "docs" / "guide-compliance-officer.md")


def _commands(cmd, path="omniguard"):
    import click

    for name, sub in getattr(cmd, "commands", {}).items():
        yield f"{path} {name}", sub
        if isinstance(sub, click.Group):
            yield from _commands(sub, f"{path} {name}")


def test_command_summaries_do_not_stop_at_an_abbreviation():
    """Click's one-line summary ends at the first word ending in '.', so 'Art. 47' or 'e.g.' in a
    first sentence would cut `omniguard rights --help` to 'Erase SUBJECT (Art.'."""
    from omniguard.cli import main

    cut = [(path, sub.get_short_help_str(limit=300)) for path, sub in _commands(main)
           if re.search(r"(Art|e\.g|i\.e|etc|vs|No)\.$", sub.get_short_help_str(limit=300))]
    assert not cut, cut
