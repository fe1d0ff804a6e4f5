"""The match on an engine that splits a population into partitions: Spark ``mapInArrow``,
Ray Data ``map_batches`` (``examples/spark_match.py``, ``examples/ray_match.py``).

An engine runs one :class:`Matcher` call per partition, in its own worker processes, and
its outputs must be the tables ``policy-match match`` writes for the whole file. Three
things make that so:

- **One partition, one match.** A partition's batches go to ``Catalog.match_arrow`` as
  one stream, so a duplicate 统一社会信用代码 is caught when both rows are in the
  partition. The engine partitions by id (a range of ids per partition) and sorts each
  partition by (id, row): every row of an id meets the others, in file order, and the
  partitions' outputs, in partition order, are the whole run's tables in their order
  (``match`` writes per-enterprise tables sorted by id).
- **Rows keep their file numbers.** The engine adds :data:`ROW`, each row's number in the
  file (from 1), before it reorders anything; rejects name it.
- **One envelope.** An engine's map step has one output schema, and a match gives several
  tables. :meth:`Matcher.envelope_schema` is a struct column per table plus ``summary``
  (a JSON string); each envelope row carries one table's row, the other columns null.
  :func:`unwrap` takes one table back out. ``notices`` (counts per measure) and
  ``summary`` (counts) are per partition: :func:`merge_notices` and
  :func:`merge_summaries` add them up.

Needs ``pyarrow``.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import os
import pathlib
import shutil
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

import pyarrow as pa
import pyarrow.compute as pc

from policy_match._native import Catalog

ROW = "__policy_match_row"
"""The column an engine adds to the population: each row's number in the file, from 1."""

SUMMARY = "summary"
"""The envelope column holding a partition's ``summary.json``, as a JSON string."""

NOTICES = "notices"

# The envelope's rows per batch: bounded, so that a partition with millions of result
# rows is handed over in pieces.
_ROWS_PER_BATCH = 65_536

# Summary keys every partition of one run has the same value for.
_SAME = (
    "catalog_hash", "as_of", "engine", "measures", "notices", "newly_eligible_ranked", "shard",
)


def _plain(t: pa.DataType) -> pa.DataType:
    """Text as ``string``: Spark refuses the large types in a map step's output."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    return t


def plain_text(table: pa.Table) -> pa.Table:
    """``table`` with text as ``string`` (lists of text too): pyarrow reads the text of
    polars' Parquet as ``string_view``, which some engines' kernels do not take (Ray's
    sort)."""
    def plain(t: pa.DataType) -> pa.DataType:
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return pa.list_(plain(t.value_type))
        return _plain(t)

    return table.cast(pa.schema([pa.field(f.name, plain(f.type)) for f in table.schema]))


class Matcher:
    """A catalog, loaded once per worker process, and what to match against it.

    ``rules`` is a rules directory (default: the built-in catalog); the other arguments
    are ``Catalog.match_arrow``'s. Build one with :meth:`shared` inside an engine's task:
    the catalog is then checked and compiled once per worker process, not per partition.
    """

    def __init__(
        self,
        as_of: Union[str, datetime.date],
        tables: Optional[Sequence[str]] = None,
        rules: Optional[Union[str, os.PathLike]] = None,
        max_pushes: int = 10,
        max_unlocks: int = 3,
        threads: int = 1,
    ):
        self.catalog = Catalog.from_dir(rules) if rules is not None else Catalog.builtin()
        self.as_of = as_of
        self.tables = list(tables) if tables is not None else None
        self.max_pushes = max_pushes
        self.max_unlocks = max_unlocks
        self.threads = threads
        # Envelope schemas by population schema: each is an empty match, and every
        # partition of a run asks for the same one.
        self._envelopes: dict = {}

    @staticmethod
    @functools.lru_cache(maxsize=4)
    def shared(
        as_of: Union[str, datetime.date],
        tables: Optional[tuple] = None,
        rules: Optional[str] = None,
        max_pushes: int = 10,
        max_unlocks: int = 3,
        threads: int = 1,
    ) -> "Matcher":
        """The process's one ``Matcher`` for these arguments (``tables`` as a tuple)."""
        return Matcher(as_of, tables, rules, max_pushes, max_unlocks, threads)

    def _match(self, data: Any) -> dict:
        return self.catalog.match_arrow(
            data,
            self.as_of,
            tables=self.tables,
            max_pushes=self.max_pushes,
            max_unlocks=self.max_unlocks,
            threads=self.threads,
            row_numbers=ROW,
        )

    def empty_run(self, population: pa.Schema) -> dict:
        """The match of no enterprise, for a population of this schema (``ROW`` added if
        absent): every table's schema, the notices with nobody in scope, the summary of
        nothing. Raises ``ValueError`` naming a column the population should not have."""
        if ROW not in population.names:
            population = population.append(pa.field(ROW, pa.int64()))
        return self._match(population.empty_table())

    def envelope_schema(self, population: pa.Schema) -> pa.Schema:
        """The map step's output: one struct column per result table (as ``match``
        writes it, text as ``string``), then ``summary``."""
        known = self._envelopes.get(population)
        if known is not None:
            return known
        fields = []
        for name, table in self.empty_run(population).items():
            if name == SUMMARY:
                continue
            schema = pa.table(table).schema
            fields.append(
                pa.field(name, pa.struct([pa.field(f.name, _plain(f.type)) for f in schema]))
            )
        fields.append(pa.field(SUMMARY, pa.string()))
        self._envelopes[population] = pa.schema(fields)
        return self._envelopes[population]

    def match_partition(
        self, batches: Iterable[pa.RecordBatch], schema: Optional[pa.Schema] = None
    ) -> Iterator[pa.RecordBatch]:
        """Matches one partition (its batches, in the population layout plus ``ROW``) as
        one run and yields the envelope's batches: every table's rows, then the summary.
        ``schema`` is the batches' (default: the first batch's). A partition without any
        batch yields nothing."""
        batches = iter(batches)
        if schema is None:
            first = next(batches, None)
            if first is None:
                return
            schema = first.schema
            batches = _chain(first, batches)
        reader = pa.RecordBatchReader.from_batches(schema, batches)
        result = self._match(reader)
        envelope = self.envelope_schema(schema)
        for name, table in result.items():
            if name == SUMMARY:
                continue
            yield from _wrap(envelope, name, pa.table(table))
        summary = json.dumps(result[SUMMARY], ensure_ascii=False)
        yield _envelope_batch(envelope, SUMMARY, pa.array([summary], pa.string()))

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Ray Data's ``map_batches`` with ``batch_format="pyarrow"`` and
        ``batch_size=None``: one block of a dataset sorted by id (a range of ids) in,
        its envelope out. The block is sorted by (id, row) first: a sort by id alone
        leaves the rows of one id in any order."""
        batch = batch.sort_by([("id", "ascending"), (ROW, "ascending")])
        schema = batch.schema
        rows = list(self.match_partition(batch.to_batches(), schema))
        return pa.Table.from_batches(rows, schema=self.envelope_schema(schema))


def _chain(first, rest):
    yield first
    yield from rest


def _envelope_batch(envelope: pa.Schema, name: str, column: pa.Array) -> pa.RecordBatch:
    n = len(column)
    arrays = [
        column if f.name == name else pa.nulls(n, type=f.type) for f in envelope
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=envelope)


def _wrap(envelope: pa.Schema, name: str, table: pa.Table) -> Iterator[pa.RecordBatch]:
    struct = envelope.field(name).type
    table = table.cast(pa.schema(list(struct)))
    for batch in table.to_batches(max_chunksize=_ROWS_PER_BATCH):
        column = pa.StructArray.from_arrays(batch.columns, fields=list(struct))
        yield _envelope_batch(envelope, name, column)


def unwrap(envelope: pa.Table, name: str) -> pa.Table:
    """One result table out of envelope rows, in their order."""
    column = envelope.column(name)
    rows = envelope.filter(pc.is_valid(column)).column(name).combine_chunks()
    return pa.Table.from_struct_array(rows) if len(rows) else _empty(column.type)


def _empty(struct: pa.DataType) -> pa.Table:
    return pa.schema(list(struct)).empty_table()


def merge_notices(notices: pa.Table) -> pa.Table:
    """The partitions' ``notices`` rows as one run's: a row per measure (in id order),
    ``in_scope`` summed."""
    keys = [n for n in notices.column_names if n != "in_scope"]
    merged = notices.group_by(keys, use_threads=False).aggregate([("in_scope", "sum")])
    merged = merged.rename_columns([*keys, "in_scope"]).select(notices.column_names)
    return merged.sort_by("measure_id").cast(notices.schema)


def merge_summaries(summaries: Sequence[Mapping[str, Any]], input: str) -> dict:
    """The partitions' summaries as one run's ``summary.json``: counts, per-measure
    counts and the histogram of pushes per enterprise added up, its distribution taken
    again, the timings added (task time, not wall time); ``input`` is what the run read.
    Raises ``ValueError`` when partitions disagree on the catalog, date or engine."""
    if not summaries:
        raise ValueError("no summary to merge")
    merged = functools.reduce(_add, summaries[1:], json.loads(json.dumps(summaries[0])))
    merged["input"] = input
    merged["pushes_per_enterprise"] = _distribution(merged["pushes_histogram"])
    return merged


def _add(a: Any, b: Any, key: str = "") -> Any:
    if key in _SAME or isinstance(a, (bool, str)) or a is None:
        if a != b:
            raise ValueError(f"partitions disagree on `{key}`: {a!r} and {b!r}")
        return a
    if isinstance(a, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _add(out[k], v, k) if k in out else v
        return out
    if isinstance(a, list):
        longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
        return [x + (shorter[i] if i < len(shorter) else 0) for i, x in enumerate(longer)]
    return a + b


def _distribution(counts: Sequence[int]) -> dict:
    """``Distribution::of`` of the batch crate: a quantile is the smallest ``n`` that at
    least that share of enterprises do not exceed."""
    total = sum(counts)

    def quantile(q: float) -> int:
        need = max(1, math.ceil(total * q))
        seen = 0
        for n, k in enumerate(counts):
            seen += k
            if seen >= need:
                return n
        return 0

    top = max((n for n, k in enumerate(counts) if k > 0), default=0)
    return {"median": quantile(0.5), "p90": quantile(0.9), "max": top}


@contextmanager
def staged_output(out: Union[str, os.PathLike]) -> Iterator[pathlib.Path]:
    """A folder that appears whole or not at all, as ``match``'s: written as the hidden
    sibling ``.NAME.partial-PID``, put in place of ``out`` when the block ends, removed
    when it raises. A run killed on the way leaves its partial folder: the next run for
    the same ``out`` removes it."""
    out = pathlib.Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    for left in out.parent.glob(f".{out.name}.partial-*"):
        shutil.rmtree(left, ignore_errors=True)
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    partial.mkdir()
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    partial.rename(out)
    shutil.rmtree(old, ignore_errors=True)
