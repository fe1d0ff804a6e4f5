#!/usr/bin/env python3
"""``policy-match match`` on Spark: a Parquet population read by Spark, matched by
``mapInArrow`` with the catalog loaded once per Python worker, the tables written by
Spark's Parquet writer.

    python examples/spark_match.py --enterprises pop.parquet --out out --as-of 2026-11-26 \\
        [--master local[2]] [--tables pushes,digest,...] [--rules DIR] [--partitions N]

``OUT/pushes.parquet`` (a folder of part files, as Spark writes a table) and the other
tables hold the rows ``policy-match match --format parquet`` writes for the same file and
date, in the same order when the part files are read in name order; ``OUT/summary.json``
is its ``summary.json`` but for ``input`` and ``timings_ms`` (added up over tasks).
``OUT`` appears whole or not at all. Exits 0, or 2 when rows were rejected or a pair
failed to evaluate (as ``match``), 1 on an error.

How (see ``policy_match.dataflow``): each row gets its number in the file (Spark's
``_metadata.row_index``); the rows are range-partitioned by id and sorted by (id, row),
so that every partition is a range of ids matched as one run; ``mapInArrow`` gives each
partition's tables in one envelope; each table is taken out of it and written, in
partition order, which is id order. ``rejects`` is sorted by row, ``notices`` and the
summary are added up on the driver.
"""

import json
import os
import sys

import engine_run
from policy_match.dataflow import NOTICES, ROW, SUMMARY, Matcher, staged_output


def arguments(argv=None):
    p = engine_run.parser(__doc__)
    p.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    p.add_argument(
        "--partitions", type=int, default=None,
        help="partitions matched (default: one per 50,000 rows, at least Spark's parallelism)",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = arguments(argv)
    # The workers run this interpreter (the virtual environment with policy_match).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    driver = engine_run.Driver(args)
    spec = driver.spec
    spark = (
        SparkSession.builder.master(args.master)
        .appName("policy-match")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        driver.phase("catalog checked, Spark started")
        df = spark.read.parquet(args.enterprises).select(
            "*", (F.col("_metadata.row_index") + 1).alias(ROW)
        )
        parts = args.partitions or max(
            spark.sparkContext.defaultParallelism, -(-driver.rows // 50_000)
        )
        df = df.repartitionByRange(parts, "id").sortWithinPartitions("id", ROW)

        def match(batches):
            # Once per Python worker: Spark reuses its workers between tasks.
            yield from Matcher.shared(**spec).match_partition(batches)

        out = df.mapInArrow(match, from_arrow_schema(driver.envelope)).persist(
            StorageLevel.DISK_ONLY
        )
        summary = driver.summary(
            json.loads(r[0])
            for r in out.where(F.col(SUMMARY).isNotNull()).select(SUMMARY).collect()
        )
        driver.phase("read, partitioned by id and matched")
        with staged_output(args.out) as stage:
            for name in [*driver.tables, "rejects"]:
                rows_of = out.where(F.col(name).isNotNull()).select(f"`{name}`.*")
                if name == NOTICES:
                    # One row per measure and partition: added up here.
                    rows_of = spark.createDataFrame(
                        driver.notices([rows_of.toArrow()])
                    ).coalesce(1)
                elif name == "rejects" and summary["rejects"]:
                    # A global sort (a sampling pass and a shuffle): only when needed.
                    rows_of = rows_of.orderBy("row")
                rows_of.write.parquet(os.path.join(stage, f"{name}.parquet"))
                driver.phase(f"{name} written")
            driver.write_summary(stage, summary)
        out.unpersist()
    finally:
        spark.stop()
    return driver.report(summary)


if __name__ == "__main__":
    sys.exit(main())
