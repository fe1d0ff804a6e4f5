"""``Catalog.match_arrow``: a generated population, clean and with bad rows, matched from
Arrow and by ``policy-match match --format parquet`` on the same file: every table equal
row for row; the rejects too; a wrong schema raises ``ValueError`` naming the column;
every kind of Arrow input; memory over 100 calls."""

import datetime
import inspect
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

AS_OF = "2026-11-26"
TABLES = [
    "pushes", "digest", "unlocks", "notices", "grants", "near_misses",
    "undetermined", "errors", "push_ids", "eligible",
]
DEFAULT_TABLES = TABLES[:8]


@pytest.fixture(scope="module")
def runs(cli, tmp_path_factory):
    """For the clean population and the one with bad rows: the Parquet file and the
    command line's output folder."""
    base = tmp_path_factory.mktemp("arrow")
    out = {}
    # `match` exits 2 when it rejected rows.
    for name, extra, code in [("clean", [], 0), ("bad", ["--bad-rows", "0.02"], 2)]:
        pop = base / f"{name}.parquet"
        cli.run("gen", "--count", "2000", "--seed", "7", "--out", str(pop), *extra)
        folder = base / f"{name}-out"
        cli.run(
            "match", "--enterprises", str(pop), "--out", str(folder), "--format",
            "parquet", "--tables", ",".join(TABLES), "--as-of", AS_OF, expect=code,
        )
        out[name] = (pop, folder)
    return out


def assert_same_table(got, path):
    expected = pq.read_table(path)
    got = pa.table(got)
    assert got.column_names == expected.column_names, path.name
    assert got.num_rows == expected.num_rows, path.name
    text = (pa.string(), pa.large_string(), pa.string_view())
    for field in expected.schema:
        # Text is `large_string` here, `string_view` as pyarrow reads polars' Parquet;
        # every other type is the file's.
        kind = got.schema.field(field.name).type
        assert kind == field.type or (kind in text and field.type in text), field
        # The same values in the same order.
        assert got[field.name].to_pylist() == expected[field.name].to_pylist(), (
            path.name, field.name)


@pytest.mark.parametrize("population", ["clean", "bad"])
def test_every_table_is_the_command_lines(catalog, runs, population):
    pop, folder = runs[population]
    result = catalog.match_arrow(pq.read_table(pop), AS_OF, tables=TABLES)
    assert list(result) == [*TABLES, "rejects", "summary"]
    for name in [*TABLES, "rejects"]:
        assert_same_table(result[name], folder / f"{name}.parquet")
        assert result[name].name == name
        assert len(result[name]) == pq.read_metadata(folder / f"{name}.parquet").num_rows
    assert len(result["pushes"]) > 0
    rejects = len(result["rejects"])
    assert (rejects > 0) == (population == "bad"), rejects


@pytest.mark.parametrize("population", ["clean", "bad"])
def test_the_summary_is_summary_json_but_the_input_and_timings(catalog, runs, population):
    import json

    pop, folder = runs[population]
    summary = catalog.match_arrow(pq.read_table(pop), AS_OF, tables=TABLES)["summary"]
    expected = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == "Arrow input"
    assert set(summary["timings_ms"]) == set(expected["timings_ms"])
    for key in ["input", "timings_ms"]:
        del summary[key], expected[key]
    assert summary == expected


def test_the_default_tables_are_match_s_and_a_table_reads_twice(catalog, runs):
    pop, folder = runs["clean"]
    result = catalog.match_arrow(pq.read_table(pop), datetime.date(2026, 11, 26))
    assert list(result) == [*DEFAULT_TABLES, "rejects", "summary"]
    pushes = result["pushes"]
    assert_same_table(pushes, folder / "pushes.parquet")
    assert_same_table(pushes, folder / "pushes.parquet")
    assert pushes.columns == pq.read_schema(folder / "pushes.parquet").names
    assert "pushes" in repr(pushes)


def test_batches_readers_and_threads_give_the_same_tables(catalog, runs):
    pop, folder = runs["bad"]
    table = pq.read_table(pop)
    small = pa.Table.from_batches(table.to_batches(max_chunksize=300))
    reader = pa.RecordBatchReader.from_batches(small.schema, small.to_batches())
    inputs = {
        "a RecordBatchReader of 300-row batches": reader,
        "one RecordBatch": table.combine_chunks().to_batches()[0],
        "a Table on 2 threads": table,
    }
    for what, data in inputs.items():
        threads = 2 if "threads" in what else 1
        result = catalog.match_arrow(data, AS_OF, tables=TABLES, threads=threads)
        for name in [*TABLES, "rejects"]:
            assert_same_table(result[name], folder / f"{name}.parquet")


def test_a_polars_data_frame_is_read_if_polars_is_there(catalog, runs):
    polars = pytest.importorskip("polars")
    pop, folder = runs["clean"]
    result = catalog.match_arrow(polars.read_parquet(pop), AS_OF)
    assert_same_table(result["pushes"], folder / "pushes.parquet")


def test_a_missing_or_mistyped_column_raises_value_error_naming_it(catalog, runs):
    table = pq.read_table(runs["clean"][0])
    with pytest.raises(ValueError, match="column `tags`: required column is missing"):
        catalog.match_arrow(table.drop_columns(["tags"]), AS_OF)
    field = next(n for n in table.column_names if n not in ("id", "name", "tags"))
    wrong = table.set_column(
        table.column_names.index(field), field, pa.array(["x"] * table.num_rows)
    )
    with pytest.raises(ValueError, match=f"column `{field}`: expected type"):
        catalog.match_arrow(wrong, AS_OF)
    with pytest.raises(ValueError, match="column `nmae`: unknown column.*`name`"):
        catalog.match_arrow(table.rename_columns(
            ["nmae" if n == "name" else n for n in table.column_names]), AS_OF)


def test_bad_arguments_are_refused(catalog, runs):
    table = pq.read_table(runs["clean"][0]).slice(0, 10)
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        catalog.match_arrow([{"id": "x"}], AS_OF)
    with pytest.raises(ValueError, match="unknown table `pushs`"):
        catalog.match_arrow(table, AS_OF, tables=["pushs"])
    with pytest.raises(ValueError, match="`threads` must be 1 to"):
        catalog.match_arrow(table, AS_OF, threads=0)
    with pytest.raises(ValueError, match="`max_pushes` must be 1 to 255"):
        catalog.match_arrow(table, AS_OF, max_pushes=0)


def test_caps_are_the_command_lines(catalog, cli, runs, tmp_path):
    pop, _ = runs["clean"]
    cli.run(
        "match", "--enterprises", str(pop), "--out", str(tmp_path / "out"), "--format",
        "parquet", "--as-of", AS_OF, "--max-pushes", "2", "--max-unlocks", "0",
    )
    result = catalog.match_arrow(pq.read_table(pop), AS_OF, max_pushes=2, max_unlocks=0)
    for name in ["pushes", "digest", "unlocks"]:
        assert_same_table(result[name], tmp_path / "out" / f"{name}.parquet")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_a_hundred_calls_do_not_grow_memory(catalog, runs):
    table = pq.read_table(runs["bad"][0]).slice(0, 200)

    def call():
        result = catalog.match_arrow(table, AS_OF)
        # Read every table, so that the streams are exported and released too.
        return sum(pa.table(t).num_rows for name, t in result.items() if name != "summary")

    for _ in range(10):  # warm up: allocator pools, thread stacks
        call()
    before = rss_bytes()
    for _ in range(100):
        call()
    grown = rss_bytes() - before
    # One call's tables are about 1 MiB: a leak of them per call would be 100 MiB.
    assert grown < 24 << 20, f"RSS grew by {grown / (1 << 20):.1f} MiB over 100 calls"


def test_the_signature_stub_and_help_say_the_same(catalog):
    import policy_match

    params = inspect.signature(policy_match.Catalog.match_arrow).parameters
    assert list(params) == [
        "self", "data", "as_of", "tables", "max_pushes", "max_unlocks", "threads",
        "row_numbers"]
    defaults = ["tables", "max_pushes", "max_unlocks", "threads", "row_numbers"]
    assert [params[p].default for p in defaults] == [None, 10, 3, 1, None]
    from conftest import REPO

    stub = (REPO / "bindings/python/python/policy_match/__init__.pyi").read_text()
    assert "def match_arrow(" in stub and "threads: int = 1" in stub
    assert "row_numbers: Optional[str] = None" in stub
    assert "class ArrowTable" in stub
    assert policy_match.ArrowTable.__module__ == "policy_match"
    assert "__arrow_c_stream__" in policy_match.Catalog.match_arrow.__doc__
