"""The sample every example starts from: a retailer's workspace, a generated customer table, a
consent history and a saved inventory entry, all in one folder.

    from retail_sample import prepare
    ws, table = prepare("/tmp/retailer-demo", customers=400)

Members ``M0000000`` ... get Chinese PII from ``omniguard.synth.retail`` (names, mobiles, resident
IDs, bank cards, addresses; all generated). Consent, as a real import would record it: 70% of
members agreed to analytics and to personalised marketing under the privacy notice, one in
fourteen of those later withdrew analytics, and the rest never answered.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omniguard import Workspace
from omniguard.classify import classify_frame
from omniguard.consent.synthetic import member_id
from omniguard.synth.retail import generate_customers

DATASET = "crm/customers"


def prepare(directory: str | Path, *, customers: int = 400, seed: int = 7) -> tuple[Workspace, Path]:
    """Create the workspace ``directory/retailer`` and the table ``directory/customers.parquet``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ws = Workspace.init(directory / "retailer", actor="etl@retailer")

    df = generate_customers(customers, seed=seed)
    df.insert(0, "member_id", member_id(range(customers)))
    table = directory / "customers.parquet"
    df.to_parquet(table, index=False)

    ids = df["member_id"].iloc[: int(customers * 0.7)]
    grants = pd.concat([
        pd.DataFrame({"subject_id": ids, "purpose": p, "action": "grant", "ts": "2026-03-01T10:00:00+08:00",
                      "notice": "privacy-notice@1", "channel": "app"})
        for p in ("analytics", "personalised_marketing")])
    withdrawals = pd.DataFrame({"subject_id": ids.iloc[::14], "purpose": "analytics", "action": "withdraw",
                                "ts": "2026-06-01T10:00:00+08:00", "notice": "", "channel": "app"})
    events = directory / "consent-events.csv"
    pd.concat([grants, withdrawals]).to_csv(events, index=False)
    ws.consent.import_file(events)

    # Classify once on the driver and save it: batch workers (Spark, Ray) never classify.
    result = classify_frame(df, ws.policy, dataset=DATASET)
    ws.audit.record("scan", dataset=DATASET, columns=list(df.columns), rows=len(df), decision="allow",
                    details={"source": "parquet"})
    ws.inventory.save(result, dataset=DATASET)
    # A person's decision: the member number identifies a person, whatever its values look like.
    ws.inventory.set_override(DATASET, "member_id", "online_identifier")
    return ws, table
