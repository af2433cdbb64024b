"""The guard inside Spark: ``mapInPandas`` hands each partition's pandas batches to the guard, so
every batch is one guarded, audited access.

    .venv/bin/python examples/spark_guard.py [FOLDER]

Needs ``pyspark`` (and a Java runtime); without it the example says so and exits with code 2.
The executors open the workspace themselves (``GuardBatches`` pickles as its settings only), so
the workspace folder must be reachable from every executor and its store shared: a SQLite file
on one machine as here (``local[2]``), PostgreSQL (``omniguard init --store-url
postgresql://...``) on a cluster.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

try:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StringType, StructField, StructType
except ImportError:
    print("error: this example needs pyspark and a Java runtime (pip install pyspark)", file=sys.stderr)
    sys.exit(2)

from omniguard.guard.batch import GuardBatches

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retail_sample import DATASET, prepare


def output_schema(ws, source: StructType, **guard_args) -> StructType:
    """The guard's output columns, found by guarding an empty frame of the source's columns on
    the driver (audited as a read of 0 rows): columns left in clear keep their type, protected
    ones (mask, tokenize, encrypt, generalize) are text."""
    import pandas as pd

    empty = pd.DataFrame({f.name: pd.Series([], dtype="string") for f in source.fields})
    res = ws.guard.run(empty, **guard_args)
    types = {f.name: f.dataType for f in source.fields}
    return StructType([StructField(c, types[c] if res.operators[c] == "clear" else StringType())
                       for c in res.columns_out])


def main(folder: Path) -> None:
    ws, table = prepare(folder)  # the dataset is scanned and saved here, on the driver
    args = {"purpose": "analytics", "actor": "spark-etl@retailer", "role": "analyst",
            "subject_column": "member_id", "dataset": DATASET}

    # Executors need omniguard installed: here, the same interpreter as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[2]").appName("omniguard-guard")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        customers = spark.read.parquet(str(table))
        schema = output_schema(ws, customers.schema, **args)
        gate = GuardBatches(ws.root, **args)
        guarded = customers.repartition(4).mapInPandas(gate.iter, schema=schema)
        output = str(folder / "analytics-customers.parquet")
        guarded.write.mode("overwrite").parquet(output)  # one run of the plan: one event per batch
        written = spark.read.parquet(output)
        released = written.count()
        sample = written.select("member_id", "customer_name", "status").limit(2).collect()
    finally:
        spark.stop()

    batches = [e for e in ws.audit.query(action="read", actor="spark-etl@retailer") if e.get("rows")]
    rows_in = sum(e["details"]["rows_in"] for e in batches)
    print(f"{released} of {rows_in} rows released in {len(batches)} guarded, audited batches; "
          f"{len(schema.fields)} columns")
    for row in sample:
        print("  ", row.asDict())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="omniguard-spark-")))
