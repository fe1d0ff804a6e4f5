#!/usr/bin/env python3
"""``policy-match match`` on Ray Data: a Parquet population read by
``ray.data.read_parquet``, matched by ``map_batches`` with a callable class holding the
catalog (one per actor), the tables written by ``write_parquet``.

    python examples/ray_match.py --enterprises pop.parquet --out out --as-of 2026-11-26 \\
        [--cpus 2] [--tables pushes,digest,...] [--rules DIR] [--object-store-mb N]

``OUT/pushes.parquet`` (a folder of files, as Ray writes a dataset) and the other tables
hold the rows ``policy-match match --format parquet`` writes for the same file and date,
in the same order when the files are read in name order; ``OUT/summary.json`` is its
``summary.json`` but for ``input`` and ``timings_ms`` (added up over tasks). ``OUT``
appears whole or not at all. Exits 0, or 2 when rows were rejected or a pair failed to
evaluate (as ``match``), 1 on an error.

How (see ``policy_match.dataflow``): each row gets its number in the file (the dataset
zipped with ``range``), the dataset is sorted by id (a range of ids per block), each block
is matched as one run by the ``Matcher`` actors, and each table is taken out of the
envelope and written in block order, which is id order. ``rejects`` is sorted by row,
``notices`` and the summary are added up on the driver.
"""

import functools
import json
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import engine_run
from policy_match.dataflow import NOTICES, ROW, SUMMARY, Matcher, plain_text, staged_output, unwrap


def arguments(argv=None):
    p = engine_run.parser(__doc__)
    p.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (default 2)")
    p.add_argument("--address", default=None, help="a running Ray cluster (default: start one)")
    p.add_argument("--object-store-mb", type=int, default=None,
                   help="object store of the local Ray (default: Ray's, 30%% of memory)")
    return p.parse_args(argv)


def numbered(batch: pa.Table) -> pa.Table:
    """``range``'s ids as the rows' numbers in the file, from 1."""
    return pa.table({ROW: pc.add(batch.column("id"), 1)})


def main(argv=None) -> int:
    args = arguments(argv)
    import ray

    driver = engine_run.Driver(args)
    init = dict(address=args.address, include_dashboard=False, log_to_driver=False)
    if args.address is None:
        init["num_cpus"] = args.cpus
        if args.object_store_mb:
            init["object_store_memory"] = args.object_store_mb << 20
    ray.init(**init)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        people = ray.data.read_parquet(args.enterprises).map_batches(
            plain_text, batch_format="pyarrow"
        )
        numbers = ray.data.range(driver.rows).map_batches(numbered, batch_format="pyarrow")
        # Equal ids in one block; the Matcher sorts each block by (id, row).
        blocks = max(args.cpus, -(-driver.rows // 50_000))
        sorted_ = people.zip(numbers).repartition(blocks).sort("id")
        out = sorted_.map_batches(
            Matcher,
            fn_constructor_kwargs=driver.spec,
            batch_format="pyarrow",
            batch_size=None,
            # From one actor: a pool that starts at full size takes every CPU before the
            # read and the sort it waits for have run.
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=args.cpus),
        ).materialize()

        def table(name):
            return out.map_batches(
                functools.partial(unwrap, name=name), batch_format="pyarrow",
                batch_size=None,
            )

        summary = driver.summary(
            json.loads(s) for t in arrow(table_summary(out)) for s in
            t.column(SUMMARY).to_pylist()
        )
        driver.phase("catalog checked, Ray started; read, numbered, sorted by id and matched")
        with staged_output(args.out) as stage:
            for name in [*driver.tables, "rejects"]:
                rows_of = table(name)
                if name == NOTICES:
                    rows_of = ray.data.from_arrow(driver.notices(arrow(rows_of)))
                elif name == "rejects" and summary["rejects"]:
                    # A global sort (a sampling pass and a shuffle): only when needed.
                    rows_of = rows_of.sort("row")
                folder = os.path.join(stage, f"{name}.parquet")
                rows_of.write_parquet(folder)
                if not os.path.isdir(folder) or not os.listdir(folder):
                    # Ray writes no file for an empty dataset: one empty file keeps the
                    # table's columns for whoever reads it.
                    os.makedirs(folder, exist_ok=True)
                    empty = driver.schema(name).empty_table()
                    pq.write_table(empty, os.path.join(folder, "empty.parquet"))
                driver.phase(f"{name} written")
            driver.write_summary(stage, summary)
    finally:
        ray.shutdown()
    return driver.report(summary)


def table_summary(out):
    return out.map_batches(
        lambda t: t.filter(pc.is_valid(t.column(SUMMARY))).select([SUMMARY]),
        batch_format="pyarrow", batch_size=None,
    )


def arrow(ds) -> list:
    """A small dataset's tables, on the driver."""
    import ray

    return [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]


if __name__ == "__main__":
    sys.exit(main())
