#!/usr/bin/env python3
"""End-to-end comparison of the batch engines and the SQL push list, run by hand.

Not run by CI and not part of the Rust build. Needs Python 3.9+ and the `duckdb`
package (`pip install duckdb`), and a release binary (`cargo build --release`).

    python3 benches/harness.py --count 1000000 --threads 2 --repeat 3

It writes a synthetic population with `policy-match gen` (Parquet), then times, each in
its own process:

- `policy-match match --engine native` and `match --engine rhai` (a binary without
  `--engine` runs plain `match` once, labelled `match`);
- `match --tables eligible` (the list before the per-enterprise cap, two id columns: like
  for like with the SQL) and plain `match` (the default tables, the nightly run; its
  list is capped, so it is timed, not compared);
- DuckDB running the query of `policy-match compile --emit sql` over the same Parquet
  file and writing the push list to a file.

For each it reports the median wall time over `--repeat` runs and the peak resident set
size (from the child's rusage), then checks that the push lists, as sets of
(enterprise_id, measure_id), are identical. `match` writes its whole output folder
(pushes, grants, near misses, undetermined pairs, …); DuckDB writes the push list only.
Exit status: 0 when the lists are identical, 1 otherwise.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def duckdb_worker(pop, sql_file, out, threads, fmt):
    """Runs in a child process: the emitted query over `pop`, the push list into `out`."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"CREATE VIEW profiles AS SELECT * FROM read_parquet({quote(pop)})")
    query = Path(sql_file).read_text()
    options = "FORMAT parquet" if fmt == "parquet" else "HEADER"
    con.execute(f"COPY ({query}\n) TO {quote(out)} ({options})")


def quote(s):
    return "'" + str(s).replace("'", "''") + "'"


def run_measured(cmd, env=None):
    """Runs `cmd`; returns (wall seconds, peak RSS in MiB). Fails on a bad exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # `match` exits 0, or 2 when it wrote rejects or errors.
    if proc.returncode not in (0, 2):
        sys.exit(f"failed with exit status {proc.returncode}: {' '.join(map(str, cmd))}")
    return wall, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1_000_000, help="population size (default 1000000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--as-of", default="2025-06-30", help="evaluation date, YYYY-MM-DD")
    ap.add_argument("--threads", type=int, default=None, help="threads for every engine (default: all cores)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per engine; the median is reported")
    ap.add_argument("--format", choices=["parquet", "csv"], default="parquet", help="output format of every engine")
    ap.add_argument("--keep-dir", type=Path, default=None, help="work in this folder and keep it (default: a temporary folder, removed)")
    ap.add_argument("--binary", type=Path, default=REPO / "target" / "release" / "policy-match")
    ap.add_argument("--skip", action="append", default=[], choices=["native", "rhai", "pushes", "push_ids", "eligible", "default"], help="leave out a `match` row (repeatable): native, rhai, pushes (`--tables pushes`), push_ids (`--tables push_ids`), eligible (`--tables eligible`) or default (the default tables, timed only)")
    ap.add_argument("--sql", type=Path, default=None, help="run this query instead of `compile --emit sql` (same catalog and --as-of)")
    ap.add_argument("--duckdb-worker", nargs=5, metavar=("POP", "SQL", "OUT", "THREADS", "FORMAT"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.duckdb_worker:
        pop, sql_file, out, threads, fmt = args.duckdb_worker
        duckdb_worker(pop, sql_file, out, int(threads), fmt)
        return 0

    try:
        import duckdb
    except ImportError:
        sys.exit("needs the duckdb package: pip install duckdb")
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    binary = args.binary
    if not binary.exists():
        sys.exit(f"{binary} is missing: build it with `cargo build --release`")
    help_text = subprocess.run([binary, "match", "--help"], capture_output=True, text=True, check=True).stdout
    compile_help = subprocess.run([binary, "compile", "--help"], capture_output=True, text=True, check=True).stdout
    if args.sql is None and "--emit" not in compile_help:
        sys.exit(f"{binary} has no `compile --emit sql`: rebuild it, or give --sql FILE")

    work = args.keep_dir or Path(tempfile.mkdtemp(prefix="policy-match-harness-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        pop = work / "population.parquet"
        print(f"gen {args.count} rows (seed {args.seed}) → {pop}", flush=True)
        subprocess.run([binary, "gen", "--count", str(args.count), "--seed", str(args.seed), "--out", pop], check=True)
        sql_file = work / "pushes.sql"
        if args.sql is None:
            emit = [binary, "compile", "--emit", "sql", "--as-of", args.as_of]
            sql_file.write_text(subprocess.run(emit, capture_output=True, text=True, check=True).stdout)
        else:
            shutil.copyfile(args.sql, sql_file)

        threads = [] if args.threads is None else ["--threads", str(args.threads)]
        ext = args.format
        engines = []  # (label, command, push list file)

        def match_row(name, extra, table="pushes"):
            out = work / f"match-{name}"
            cmd = [binary, "match", "--enterprises", pop, "--out", out, "--as-of", args.as_of, "--format", ext, *extra, "--quiet", *threads]
            engines.append((" ".join(["match", *extra]), cmd, out / f"{table}.{ext}" if table else None))

        # Since the per-enterprise cap (`--max-pushes`), the emitted SQL gives the list
        # before the cap: `match` writes it as `eligible`, compared here.
        capped = "eligible" in help_text
        if "--engine" in help_text:
            for engine in ("native", "rhai"):
                if engine not in args.skip:
                    if capped:
                        every = "pushes,digest,unlocks,notices,grants,near_misses,undetermined,errors,eligible"
                        match_row(engine, ["--engine", engine, "--tables", every], "eligible")
                    else:
                        match_row(engine, ["--engine", engine])
            if "--tables" in help_text:
                # The push table alone, and (like for like with the SQL) the id columns.
                for table in ("eligible",) if capped else ("pushes", "push_ids"):
                    if table not in args.skip:
                        match_row(table, ["--tables", table], table)
        else:
            match_row("default", [])
        if capped and "default" not in args.skip:
            # The nightly run as it is run: the default tables. Its push list is capped
            # per enterprise, so it is timed and not compared.
            match_row("default", [], None)
        duck_out = work / f"duckdb-pushes.{ext}"
        cmd = [sys.executable, __file__, "--duckdb-worker", pop, sql_file, duck_out, str(args.threads or 0), ext]
        engines.append(("duckdb (emitted SQL)", cmd, duck_out))

        results = []
        for label, cmd, pushes in engines:
            walls, rss = [], []
            for i in range(args.repeat):
                w, r = run_measured(cmd)
                walls.append(w)
                rss.append(r)
                print(f"  {label} run {i + 1}: {w:.2f} s, {r:.0f} MiB", flush=True)
            results.append((label, statistics.median(walls), statistics.median(rss), pushes))

        # Compare the push lists as sets of pairs, inside DuckDB (they can be tens of millions).
        con = duckdb.connect()

        def pairs(path):
            if path.suffix == ".parquet":
                src = f"read_parquet({quote(path)})"
            else:
                src = f"read_csv({quote(path)}, header = true, all_varchar = true)"
            return f"SELECT CAST(enterprise_id AS VARCHAR) AS e, CAST(measure_id AS VARCHAR) AS m FROM {src}"

        counts = [con.execute(f"SELECT count(*) FROM ({pairs(p)})").fetchone()[0] if p else None for *_, p in results]
        reference = results[0][3]
        identical = True
        for (label, *_, path), n in zip(results[1:], counts[1:]):
            if path is None:
                continue
            diff = con.execute(
                f"SELECT (SELECT count(*) FROM ({pairs(reference)} EXCEPT {pairs(path)})),"
                f" (SELECT count(*) FROM ({pairs(path)} EXCEPT {pairs(reference)}))"
            ).fetchone()
            same = diff == (0, 0) and n == counts[0]
            identical &= same
            print(f"  {label} vs {results[0][0]}: {'identical' if same else f'DIFFERENT (only first {diff[0]}, only second {diff[1]})'}")

        base_wall, base_rss = results[0][1], results[0][2]
        print()
        print(f"{args.count} enterprises, as of {args.as_of}, threads {args.threads or 'all'}, median of {args.repeat}, output {ext}, on {os.cpu_count()} cores")
        header = f"{'engine':<24} {'wall s':>9} {'peak RSS MiB':>13} {'push rows':>11} {'wall ×':>8} {'RSS ×':>7}"
        print(header)
        print("-" * len(header))
        for (label, wall, rss, _), n in zip(results, counts):
            rows = "—" if n is None else n
            print(f"{label:<24} {wall:>9.2f} {rss:>13.0f} {rows:>11} {wall / base_wall:>8.2f} {rss / base_rss:>7.2f}")
        print(f"push lists identical: {'yes' if identical else 'NO'}")
        return 0 if identical else 1
    finally:
        if args.keep_dir is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    sys.exit(main())
