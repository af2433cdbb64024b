from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def policy():
    from omniguard.policy import default_pack_dir, load_pack

    return load_pack(default_pack_dir())


@pytest.fixture(scope="session")
def analyzer():
    from omniguard.classify.engine import get_analyzer

    return get_analyzer()


@pytest.fixture(scope="session")
def customers():
    """1,500 synthetic customers (en names), shared: generating them costs ~0.5 s."""
    from omniguard.synth.retail import generate_customers

    return generate_customers(1500, seed=11)


@pytest.fixture(scope="session")
def find(analyzer):
    """find(text, context=None) -> {(entity, matched text): score}."""

    def run(text, context=None):
        return {(r.entity_type, text[r.start:r.end]): round(r.score, 2)
                for r in analyzer.analyze(text=text, language="zh", context=context)}

    return run
