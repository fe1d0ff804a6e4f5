"""Past one process: ``policy_match.dataflow`` and the engines' examples
(``examples/spark_match.py`` on Spark ``local[2]``, ``examples/ray_match.py`` on a local
Ray with 2 CPUs) over a generated population of 20,000 rows with bad ones, each table
compared row for row, in order, with ``policy-match match --format parquet`` on the same
file and date; the summary too, but for the input and the timings. Every Spark or Ray
process a test starts is gone when it ends."""

import json
import os
import pathlib
import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from policy_match import dataflow

AS_OF = "2026-11-26"
TABLES = [
    "pushes", "digest", "unlocks", "notices", "grants", "near_misses",
    "undetermined", "errors", "push_ids", "eligible",
]


@pytest.fixture(scope="module")
def population(cli, tmp_path_factory):
    """20,000 generated rows, about 1% of them bad, and the command line's output."""
    base = tmp_path_factory.mktemp("engines")
    pop = base / "pop.parquet"
    cli.run("gen", "--count", "20000", "--seed", "5", "--bad-rows", "0.01", "--out", str(pop))
    out = base / "cli"
    cli.run(
        "match", "--enterprises", str(pop), "--out", str(out), "--format", "parquet",
        "--tables", ",".join(TABLES), "--as-of", AS_OF, expect=2,
    )
    return pop, out


def read_folder(path: pathlib.Path) -> pa.Table:
    """A table an engine wrote: its files in name order (part files, in partition
    order)."""
    files = sorted(path.glob("*.parquet"))
    assert files, f"no file in {path}"
    return dataflow.plain_text(pa.concat_tables([pq.read_table(f) for f in files]))


def assert_same(got: pa.Table, expected_path: pathlib.Path):
    expected = dataflow.plain_text(pq.read_table(expected_path))
    name = expected_path.name
    assert got.column_names == expected.column_names, name
    assert got.num_rows == expected.num_rows, name
    for column in expected.column_names:
        assert got[column].to_pylist() == expected[column].to_pylist(), (name, column)


def assert_same_summary(got: dict, expected_path: pathlib.Path, input: str):
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert got["input"] == input
    assert set(got) == set(expected)
    assert set(got["timings_ms"]) == set(expected["timings_ms"])
    for key in set(expected) - {"input", "timings_ms"}:
        assert got[key] == expected[key], key


def numbered(pop: pathlib.Path) -> pa.Table:
    """The population with its rows' numbers, text as `string` (pyarrow sorts no
    `string_view`)."""
    table = dataflow.plain_text(pq.read_table(pop))
    return table.append_column(dataflow.ROW, pa.array(range(1, table.num_rows + 1)))


def test_partitions_by_id_range_merged_are_the_single_run(catalog, population):
    """What both engines do, without an engine: rows numbered, sorted by (id, row), cut
    into id ranges, each matched as one partition; the envelopes' tables concatenated in
    order and the notices and summaries merged give every table of the single run."""
    pop, out = population
    matcher = dataflow.Matcher(AS_OF, tables=TABLES)
    table = numbered(pop).sort_by([("id", "ascending"), (dataflow.ROW, "ascending")])
    ids = table.column("id")
    # Cut points moved forward to the next change of id, as a range partitioner cuts.
    cuts = [0]
    for at in [3_000, 9_000, 9_001, 15_500]:
        while 0 < at < table.num_rows and ids[at] == ids[at - 1]:
            at += 1
        cuts.append(at)
    cuts.append(table.num_rows)
    envelope = pa.Table.from_batches(
        [b for lo, hi in zip(cuts, cuts[1:])
         for b in matcher.match_partition(table.slice(lo, hi - lo).to_batches())],
        schema=matcher.envelope_schema(table.schema),
    )
    empty = matcher.empty_run(pq.read_schema(pop))
    for name in TABLES:
        got = dataflow.unwrap(envelope, name)
        if name == "notices":
            got = dataflow.merge_notices(pa.concat_tables([
                pa.table(empty["notices"]).cast(got.schema), got]))
        assert_same(got, out / f"{name}.parquet")
    rejects = dataflow.unwrap(envelope, "rejects")
    assert rejects.num_rows > 0
    assert_same(rejects.sort_by("row"), out / "rejects.parquet")
    summaries = [json.loads(s) for s in envelope.column("summary").drop_null().to_pylist()]
    assert len(summaries) == len(cuts) - 1
    merged = dataflow.merge_summaries([empty["summary"], *summaries], str(pop))
    assert_same_summary(merged, out / "summary.json", str(pop))


def test_a_row_keeps_its_file_number_whatever_the_order(catalog, population):
    pop, out = population
    table = numbered(pop)
    # Reversed, then sorted by (id, row): the rows of one id stay in file order.
    shuffled = table.take(pa.array(range(table.num_rows - 1, -1, -1))).sort_by(
        [("id", "ascending"), (dataflow.ROW, "ascending")])
    result = catalog.match_arrow(shuffled, AS_OF, row_numbers=dataflow.ROW)
    assert_same(pa.table(result["rejects"]), out / "rejects.parquet")
    assert_same(pa.table(result["pushes"]), out / "pushes.parquet")
    with pytest.raises(ValueError, match="column `nope`: no such column"):
        catalog.match_arrow(table, AS_OF, row_numbers="nope")
    zero = table.set_column(
        table.column_names.index(dataflow.ROW), dataflow.ROW,
        pc.subtract(table.column(dataflow.ROW), 1))
    with pytest.raises(ValueError, match="row numbers start at 1"):
        catalog.match_arrow(zero, AS_OF, row_numbers=dataflow.ROW)


def test_partitions_that_disagree_are_not_merged(catalog, population):
    pop, _ = population
    matcher = dataflow.Matcher(AS_OF)
    one = matcher.empty_run(pq.read_schema(pop))["summary"]
    other = dataflow.Matcher("2026-11-27").empty_run(pq.read_schema(pop))["summary"]
    with pytest.raises(ValueError, match="partitions disagree on `as_of`"):
        dataflow.merge_summaries([one, other], str(pop))


def test_a_staged_output_appears_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("previous run")
    # What a killed run left.
    (tmp_path / ".out.partial-4294967294").mkdir()
    with pytest.raises(RuntimeError):
        with dataflow.staged_output(out) as stage:
            (stage / "half.txt").write_text("half")
            raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    with dataflow.staged_output(out) as stage:
        (stage / "new.txt").write_text("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]


def engine_processes() -> list:
    """Spark's JVM and Ray's daemons and workers now running, as `pgrep -a` lists them."""
    found = subprocess.run(
        ["pgrep", "-a", "-f", r"org\.apache\.spark|raylet|gcs_server|ray::|ray/_private"],
        capture_output=True, text=True,
    )
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def settled(expected: list, seconds: float = 20.0) -> list:
    """The engine processes once they match `expected`, or after `seconds`: daemons
    take a moment to exit after their driver."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        now = engine_processes()
        if now == expected or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


@pytest.mark.parametrize("engine", ["spark", "ray"])
def test_an_engine_writes_the_command_line_s_tables(population, tmp_path, engine):
    pop, cli_out = population
    before = engine_processes()
    out = tmp_path / "out"
    env = dict(
        os.environ,
        PYSPARK_PYTHON=sys.executable,
        SPARK_LOCAL_IP="127.0.0.1",
        RAY_AUTH_MODE="disabled",
    )
    extra = {"spark": ["--master", "local[2]"],
             "ray": ["--cpus", "2", "--object-store-mb", "512"]}[engine]
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / f"{engine}_match.py"),
         "--enterprises", str(pop), "--out", str(out), "--as-of", AS_OF,
         "--tables", ",".join(TABLES), *extra],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    # 2, as `match`: rows were rejected.
    assert done.returncode == 2, done.stderr[-4000:]
    assert settled(before) == before, f"{engine} left processes running"
    for name in [*TABLES, "rejects"]:
        assert_same(read_folder(out / f"{name}.parquet"), cli_out / f"{name}.parquet")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert_same_summary(summary, cli_out / "summary.json", str(pop))
    assert summary["enterprises_matched"] > 19_000 and summary["rejects"] > 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("engine, intro", [
    ("spark", "Spark, the catalog loaded once per Python worker"),
    ("ray", "Ray Data, a `Matcher` per actor"),
])
def test_the_readme_engine_examples_write_the_push_list(cli, tmp_path, engine, intro):
    """The README's short examples, run as written in a folder with `pop.parquet`
    (2,000 rows): `out/pushes.parquet` is `match`'s push list, in its order."""
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text[text.index(intro):], re.S).group(1)
    cli.run("gen", "--count", "2000", "--seed", "11", "--out", str(tmp_path / "pop.parquet"))
    cli.run("match", "--enterprises", str(tmp_path / "pop.parquet"), "--out",
            str(tmp_path / "cli"), "--format", "parquet", "--as-of", AS_OF)
    before = engine_processes()
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1",
               RAY_AUTH_MODE="disabled")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert settled(before) == before, f"{engine} left processes running"
    assert_same(read_folder(tmp_path / "out" / "pushes.parquet"),
                tmp_path / "cli" / "pushes.parquet")
