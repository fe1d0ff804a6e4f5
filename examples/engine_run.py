"""What ``spark_match.py`` and ``ray_match.py`` share: ``match``'s arguments, the driver's
side of a run (the catalog checked before any task starts, the envelope's schema, the
empty run, the merges, ``summary.json``, the exit status) and the phase times on stderr.

Imported by the two scripts from their folder; the engines' workers never import it (they
need ``policy_match`` only)."""

import argparse
import json
import os
import sys
import time
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from policy_match.dataflow import NOTICES, SUMMARY, Matcher, merge_notices, merge_summaries

DEFAULT_TABLES = "pushes,digest,unlocks,notices,grants,near_misses,undetermined,errors"


def parser(doc: str) -> argparse.ArgumentParser:
    """``match``'s options; a script adds its engine's."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--enterprises", required=True, help="population, Parquet (`gen` writes one)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--as-of", required=True, help="the date matched for, YYYY-MM-DD")
    p.add_argument("--tables", default=DEFAULT_TABLES, help="result tables, as `match --tables`")
    p.add_argument("--rules", default=None, help="a rules directory (default: built-in)")
    p.add_argument("--max-pushes", type=int, default=10)
    p.add_argument("--max-unlocks", type=int, default=3)
    return p


class Driver:
    """The driver's side of one run."""

    def __init__(self, args: argparse.Namespace):
        self.started = self.last = time.perf_counter()
        self.args = args
        self.tables = tuple(t for t in args.tables.split(",") if t)
        rules = os.path.abspath(args.rules) if args.rules else None
        # What every worker builds its `Matcher` from: plain values, pickled to them.
        self.spec = dict(as_of=args.as_of, tables=self.tables, rules=rules,
                         max_pushes=args.max_pushes, max_unlocks=args.max_unlocks)
        matcher = Matcher.shared(**self.spec)
        population = pq.read_schema(args.enterprises)
        self.envelope = matcher.envelope_schema(population)
        # Every notice with nobody in scope, the summary of nothing: what the merges
        # start from, so that a population without a row still gives every table.
        self.empty = matcher.empty_run(population)
        self.rows = pq.read_metadata(args.enterprises).num_rows

    def phase(self, what: str):
        """Tells on stderr how long the phase that just ended took."""
        now = time.perf_counter()
        print(f"policy-match: {what}: {now - self.last:.1f} s", file=sys.stderr, flush=True)
        self.last = now

    def schema(self, name: str) -> pa.Schema:
        """A result table's schema, as the envelope holds it."""
        return pa.schema(list(self.envelope.field(name).type))

    def notices(self, partitions: Iterable[pa.Table]) -> pa.Table:
        """The partitions' ``notices`` rows added up into the run's."""
        schema = self.schema(NOTICES)
        parts = [pa.table(self.empty[NOTICES]).cast(schema)]
        parts += [t.cast(schema) for t in partitions]
        return merge_notices(pa.concat_tables(parts))

    def summary(self, partitions: Iterable[dict]) -> dict:
        return merge_summaries([self.empty[SUMMARY], *partitions], self.args.enterprises)

    def write_summary(self, stage: str, summary: dict):
        """``summary.json`` into the staged folder."""
        with open(os.path.join(stage, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False, indent=2)
            f.write("\n")

    def report(self, summary: dict) -> int:
        """Tells what the run did; the exit status ``match`` would give: 2 when rows
        were rejected or a pair failed, else 0."""
        print(
            f"{summary['enterprises_matched']} enterprises matched, {summary['pushes']} "
            f"pushes, {summary['rejects']} rejects in "
            f"{time.perf_counter() - self.started:.1f} s -> {self.args.out}",
            file=sys.stderr,
        )
        return 2 if summary["rejects"] or summary["errors"] else 0
