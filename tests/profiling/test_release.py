"""DP segment releases with OpenDP, through the library and `omniguard dp`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omniguard.errors import AccessDenied, InputError
from omniguard.profiling.dp.release import Bounded, release_segments


@pytest.fixture(scope="module")
def customers():
    rng = np.random.default_rng(4)
    seg = np.repeat(["gold", "silver", "bronze", "rare"], [3000, 2000, 1500, 8])
    return pd.DataFrame({"member_id": [f"M{i:05d}" for i in range(len(seg))], "segment": seg,
                         "spend": np.round(rng.gamma(2.0, 300.0, len(seg)), 2).astype(str)})


def test_private_keys_suppress_rare_segments_and_intervals_cover(workspace, customers):
    workspace.ledger.set_budget("crm", 2.0, 1e-5)
    # 1 - 1e-6 intervals: OpenDP's noise cannot be seeded, so the coverage checks below must fail
    # with negligible probability (about 1e-5 for the whole test), not 1 in 4 as with 95% intervals.
    r = release_segments(workspace, customers, by=["segment"], epsilon=1.0, delta=1e-6, dataset="crm",
                         sums=[Bounded("spend", 0, 3000)], means=[Bounded("spend", 0, 3000)], alpha=1e-6)
    t = r.table.set_index("segment")
    assert set(t.index) == {"gold", "silver", "bronze"}  # 8 customers is below the threshold
    assert r.threshold is not None and r.threshold > 8 and not r.keys_public
    truth = customers.assign(spend=customers.spend.astype(float)).groupby("segment")["spend"]
    for seg in t.index:
        assert t.loc[seg, "count_ci_low"] <= truth.size()[seg] <= t.loc[seg, "count_ci_high"]
        assert t.loc[seg, "mean_spend_ci_low"] <= truth.mean()[seg] <= t.loc[seg, "mean_spend_ci_high"]
        assert t.loc[seg, "sum_spend_ci_low"] <= truth.sum()[seg] <= t.loc[seg, "sum_spend_ci_high"]
    assert workspace.ledger.state("crm").spent_epsilon == pytest.approx(1.0)
    event = next(workspace.audit.query(action="dp.release"))
    assert event["details"]["epsilon"] == 1.0 and event["details"]["segments_released"] == 3
    assert "gold" not in json.dumps(event)  # counts and settings only, never released values or keys
    doc = r.to_dict()
    assert doc["unit"].startswith("customer") and doc["delta"] == 1e-6 and len(doc["mechanisms"]) == 2


def test_public_keys_release_every_listed_segment_without_delta(workspace, customers):
    workspace.ledger.set_budget("crm", 1.0, 0.0)
    r = release_segments(workspace, customers, by=["segment"], epsilon=0.5, dataset="crm",
                         public_keys=["gold", "silver", "bronze", "rare", "platinum"])
    assert list(r.table["segment"]) == ["bronze", "gold", "platinum", "rare", "silver"]
    assert r.keys_public and r.threshold is None
    with pytest.raises(AccessDenied, match="privacy budget"):
        release_segments(workspace, customers, by=["segment"], epsilon=0.6, dataset="crm", public_keys=["gold"])
    assert len(workspace.ledger.entries("crm")) == 1


def test_bad_requests_are_refused_before_any_budget_is_spent(workspace, customers):
    workspace.ledger.set_budget("crm", 5.0, 1e-5)
    bad = customers.copy()
    bad.loc[10, "spend"] = "lots"
    with pytest.raises(InputError, match=r"line 12: column 'spend' is not a number"):
        release_segments(workspace, bad, by=["segment"], epsilon=1, delta=1e-6, dataset="crm",
                         sums=[Bounded("spend", 0, 100)])
    with pytest.raises(InputError, match="keys are private"):
        release_segments(workspace, customers, by=["segment"], epsilon=1, dataset="crm")
    with pytest.raises(InputError, match="--by"):
        release_segments(workspace, customers, by=["tier"], epsilon=1, delta=1e-6, dataset="crm")
    assert workspace.ledger.entries("crm") == []


def test_cli_release_and_budget(workspace, customers, cli, tmp_path):
    data = tmp_path / "members.csv"
    customers.to_csv(data, index=False)
    w = f"-w {workspace.root}"
    r = cli(f"dp release {data} --by segment --count --epsilon 1 --keys gold,silver {w} --json")
    assert r.exit_code == 1 and "no budget is set" in r.stderr
    assert cli(f"dp budget set members.csv --epsilon 1.5 --delta 1e-6 {w} --json").exit_code == 0
    out = tmp_path / "out.csv"
    r = cli(f"dp release {data} --by segment --count --mean spend:0:3000 --epsilon 1 --keys gold,silver {w} "
            f"-o {out} --json")
    assert r.exit_code == 0, r.stderr
    assert [s["segment"] for s in r.json()["segments"]] == ["gold", "silver"] and out.exists()
    r = cli(f"dp release {data} --by segment --count --sum spend:0 --epsilon 0.1 --keys gold {w}")
    assert r.exit_code == 2 and r.stderr.startswith("error: --sum") and "Traceback" not in r.stderr
    shown = cli(f"dp budget show members.csv --entries {w} --json").json()
    assert shown["datasets"][0]["spent_epsilon"] == pytest.approx(1.0) and len(shown["entries"]) == 1


def test_a_large_epsilon_is_warned_about_once_in_our_words(workspace, customers, cli, tmp_path, caplog):
    data = tmp_path / "members.csv"
    customers.to_csv(data, index=False)
    w = f"-w {workspace.root}"
    assert cli(f"dp budget set members.csv --epsilon 10 --delta 1e-6 {w}").exit_code == 0
    r = cli(f"dp release {data} --by segment --count --epsilon 6 --keys gold {w} --json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["warnings"] and r.stderr.count("warning: epsilon 6 per customer") == 1
    assert not [x for x in caplog.records if x.name.startswith("opendp")]  # OpenDP's own log line stays quiet
    r = cli(f"dp release {data} --by segment --count --epsilon 1 --keys gold {w} --json")
    assert r.exit_code == 0 and r.json()["warnings"] == [] and "warning" not in r.stderr
