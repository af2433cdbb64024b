"""Self-contained HTML reports (no external assets, no network): tables and inline SVG charts,
in Chinese or English. Every report a compliance officer reads is built with :class:`Report`.

Each page carries a tiny script that records script errors and the number of charts drawn on the
``<html>`` element (``data-error``, ``data-rendered``), so a headless browser test can tell that a
report really shows.
"""

from omniguard.reporting.page import Report, tr

__all__ = ["Report", "tr"]
