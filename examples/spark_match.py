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

import argparse
import json
import os
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

from policy_match.dataflow import (
    NOTICES,
    ROW,
    SUMMARY,
    Matcher,
    merge_notices,
    merge_summaries,
    staged_output,
)

DEFAULT_TABLES = "pushes,digest,unlocks,notices,grants,near_misses,undetermined,errors"


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--enterprises", required=True, help="population, Parquet (`gen` writes one)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--as-of", required=True, help="the date matched for, YYYY-MM-DD")
    p.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    p.add_argument("--tables", default=DEFAULT_TABLES, help="result tables, as `match --tables`")
    p.add_argument("--rules", default=None, help="a rules directory (default: built-in)")
    p.add_argument("--max-pushes", type=int, default=10)
    p.add_argument("--max-unlocks", type=int, default=3)
    p.add_argument(
        "--partitions", type=int, default=None,
        help="partitions matched (default: one per 50,000 rows, at least Spark's parallelism)",
    )
    return p.parse_args(argv)


class Phases:
    """Each phase's wall time, told on stderr as it ends: where an engine's time goes."""

    def __init__(self):
        self.last = time.perf_counter()

    def done(self, what: str):
        now = time.perf_counter()
        print(f"policy-match: {what}: {now - self.last:.1f} s", file=sys.stderr, flush=True)
        self.last = now


def main(argv=None) -> int:
    args = arguments(argv)
    phases = Phases()
    # The workers run this interpreter (the virtual environment with policy_match).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    tables = tuple(t for t in args.tables.split(",") if t)
    rules = os.path.abspath(args.rules) if args.rules else None
    spec = dict(as_of=args.as_of, tables=tables, rules=rules,
                max_pushes=args.max_pushes, max_unlocks=args.max_unlocks)
    # On the driver: the catalog checked before any task starts, the envelope's schema,
    # and the empty run (every notice with nobody in scope; the summary of nothing).
    matcher = Matcher.shared(**spec)
    population = pq.read_schema(args.enterprises)
    envelope = matcher.envelope_schema(population)
    empty = matcher.empty_run(population)

    spark = (
        SparkSession.builder.master(args.master)
        .appName("policy-match")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        df = spark.read.parquet(args.enterprises).select(
            "*", (F.col("_metadata.row_index") + 1).alias(ROW)
        )
        rows = pq.read_metadata(args.enterprises).num_rows
        parts = args.partitions or max(
            spark.sparkContext.defaultParallelism, -(-rows // 50_000)
        )
        df = df.repartitionByRange(parts, "id").sortWithinPartitions("id", ROW)

        def match(batches):
            # Once per Python worker: Spark reuses its workers between tasks.
            yield from Matcher.shared(**spec).match_partition(batches)

        phases.done("catalog and Spark started")
        out = df.mapInArrow(match, from_arrow_schema(envelope)).persist(
            StorageLevel.DISK_ONLY
        )
        out.count()
        phases.done("read, partitioned by id and matched")
        summaries = [json.loads(r[0]) for r in
                     out.where(F.col(SUMMARY).isNotNull()).select(SUMMARY).collect()]
        summary = merge_summaries([empty[SUMMARY], *summaries], args.enterprises)
        with staged_output(args.out) as stage:
            for name in [*tables, "rejects"]:
                rows_of = out.where(F.col(name).isNotNull()).select(f"`{name}`.*")
                if name == NOTICES:
                    # One row per measure and partition: added up here.
                    merged = merge_notices(
                        _concat(pa.table(empty[NOTICES]), rows_of.toArrow(), envelope, name)
                    )
                    rows_of = spark.createDataFrame(merged).coalesce(1)
                elif name == "rejects" and summary["rejects"]:
                    # A global sort (a sampling pass and a shuffle): only when needed.
                    rows_of = rows_of.orderBy("row")
                rows_of.write.parquet(os.path.join(stage, f"{name}.parquet"))
                phases.done(f"{name} written")
            with open(os.path.join(stage, "summary.json"), "w", encoding="utf-8") as f:
                json.dump(summary, f, ensure_ascii=False, indent=2)
                f.write("\n")
        out.unpersist()
    finally:
        spark.stop()
    print(
        f"{summary['enterprises_matched']} enterprises matched, {summary['pushes']} pushes, "
        f"{summary['rejects']} rejects -> {args.out}",
        file=sys.stderr,
    )
    return 2 if summary["rejects"] or summary["errors"] else 0


def _concat(first, rest, envelope, name):
    """The empty run's rows and the partitions', in the envelope's types."""
    schema = pa.schema(list(envelope.field(name).type))
    return pa.concat_tables([first.cast(schema), rest.cast(schema)])


if __name__ == "__main__":
    sys.exit(main())
