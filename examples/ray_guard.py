"""The guard inside Ray Data: every batch of ``map_batches`` is one guarded, audited access.

    .venv/bin/python examples/ray_guard.py [FOLDER]

Ray comes with omniguard's federated extra (``flwr[simulation]``); without ``ray.data`` the
example says so and exits with code 2. The workers open the workspace themselves (the
``GuardBatches`` object pickles as its settings only), so the workspace folder must be reachable
from every worker and the store shared: a SQLite file on one machine as here, PostgreSQL
(``omniguard init --store-url postgresql://...``) on a cluster.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

try:
    import ray
    import ray.data
except ImportError:
    print("error: this example needs Ray Data (pip install 'ray[data]')", file=sys.stderr)
    sys.exit(2)

from omniguard.guard.batch import GuardBatches

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retail_sample import DATASET, prepare


def main(folder: Path) -> None:
    ws, table = prepare(folder)  # the dataset is scanned and saved here, on the driver

    gate = GuardBatches(ws.root, purpose="analytics", actor="ray-etl@retailer", role="analyst",
                        subject_column="member_id", dataset=DATASET)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        ds = ray.data.read_parquet(str(table)).repartition(4)
        guarded = ds.map_batches(gate, batch_format="pandas", batch_size=100)
        out = guarded.to_pandas()
    finally:
        ray.shutdown()

    batches = list(ws.audit.query(action="read", actor="ray-etl@retailer"))
    rows_in = sum(e["details"]["rows_in"] for e in batches)
    print(f"{len(out)} of {rows_in} rows released in {len(batches)} guarded batches; "
          f"columns: {', '.join(out.columns[:5])}, ...; member ids are tokens: "
          f"{out['member_id'].str.startswith('tk1_').all()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="omniguard-ray-")))
