"""The end-to-end retail scenario behind `omniguard demo` (and `make demo`).

Steps live in modules of this package named ``steps_*``; each exposes ``STEPS``, a list of
:class:`Step`. They run in ``order`` and share a :class:`DemoContext`. Each capability adds its
own steps module, so the demo grows with the product without one file everyone edits.
Order bands: 0-99 workspace, 100 consent, 200 classification, 300 crypto, 400 guard, 500
federation, 600 DP, 700 rights, 800 checks and PIA, 900 audit.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DemoContext:
    directory: Path
    ws: Any = None
    data: dict[str, Any] = field(default_factory=dict)  # shared between steps
    reports: dict[str, str] = field(default_factory=dict)  # name -> path of an HTML/JSON report
    seed: int = 7


@dataclass(frozen=True)
class Step:
    order: int
    title: str
    run: Callable[[DemoContext], dict[str, Any]]  # returns a short summary (counts, paths)


def all_steps() -> list[Step]:
    steps: list[Step] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("steps_"):
            steps.extend(importlib.import_module(f"{__name__}.{info.name}").STEPS)
    return sorted(steps, key=lambda s: s.order)


def run_demo(directory: Path, on_step: Callable[[Step, dict[str, Any], float], None] | None = None) -> DemoContext:
    ctx = DemoContext(directory=directory)
    for step in all_steps():
        t0 = time.perf_counter()
        summary = step.run(ctx)
        if on_step:
            on_step(step, summary, time.perf_counter() - t0)
    return ctx
