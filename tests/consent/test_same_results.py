"""The registry answers the same on SQLite and PostgreSQL: same import, same checks, same reports."""

from __future__ import annotations

import pandas as pd
import pytest

from omniguard.consent import reports
from omniguard.consent.synthetic import consent_events, member_id

pytestmark = pytest.mark.postgres


def test_sqlite_and_postgresql_agree(tmp_path, pg_url, v2_pack):
    from omniguard.workspace import Workspace

    pack = v2_pack
    frame = consent_events(6000, 2500, seed=11)
    # Some grants under v1 of the privacy notice, some under v2 (analytics under v1 is stale).
    frame.loc[frame.index % 3 == 0, "notice"] = frame["notice"].str.replace("privacy-notice@1", "privacy-notice@2")
    frame.to_csv(tmp_path / "events.csv", index=False)
    ids = list(member_id(range(2600)))
    results = []
    for name, url in (("sqlite", None), ("postgresql", pg_url)):
        ws = Workspace.init(tmp_path / name, actor="tester@test", store_url=url, policies=pack)
        ws.consent.import_file(tmp_path / "events.csv")
        ws.consent.withdraw(ids[7], "analytics")
        ws.consent.opt_out(ids[8], "personalised_marketing")
        ws.rights.erase(ids[9])
        out = {
            "allowed": {p: ws.consent.allowed(ids, p).tolist() for p in sorted(ws.policy.purposes)},
            "as_of": {p: ws.consent.allowed(ids, p, at="2026-06-01T00:00:00Z").tolist() for p in ("analytics",
                                                                                                 "joint_profiling")},
            "explain": [ws.consent.explain(i, p, record=False).code for i in ids[:60] for p in ("analytics",
                                                                                                "joint_profiling")],
            # Event ids and times of the three acts above are generated per store; the rest must match.
            "state": reports.state_frame(ws).drop(columns=["event_id", "opt_event_id", "ts", "opt_ts"])
            .sort_values(["purpose", "subject_id"]).reset_index(drop=True),
            "stats": [{k: v for k, v in p.items()} for p in reports.stats(ws)["purposes"]],
            "over_time": reports.stats(ws)["withdrawals_over_time"],
        }
        results.append(out)
        ws.close()
    lite, pg = results
    for key in ("allowed", "as_of", "explain", "stats", "over_time"):
        assert lite[key] == pg[key], key
    pd.testing.assert_frame_equal(lite["state"], pg["state"])
    assert sum(lite["allowed"]["analytics"]) > 100  # the comparison is not between two empty answers
    assert {"stale", "ok", "withdrawn"} <= set(lite["state"]["reason"])
