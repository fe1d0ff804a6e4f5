#!/usr/bin/env python3
"""`match` by the command line, on Spark and on Ray, side by side, run by hand.

Not run by CI. Needs a release binary (`cargo build --release -p policy-match-cli`) and a
Python with the package built in release (`pip install ./bindings/python`), pyarrow,
`pyspark==4.3.0` and `ray[data]==2.60.0` (Spark also needs Java 17).

    python benches/engines.py --count 1000000 --cpus 2 [--repeat 1] [--keep DIR]

It writes a population with `policy-match gen --seed SEED` (default 1; Parquet), then runs, each in
its own process and in turn, with the default tables:

- `policy-match match --format parquet --threads CPUS`;
- `examples/spark_match.py --master local[CPUS]`;
- `examples/ray_match.py --cpus CPUS`.

For each it reports the median wall time over `--repeat` runs (the whole process: an
engine's start and stop included) and the peak memory of the process tree (the sum of
the proportional set sizes of the process and every descendant, sampled every 0.2 s: a
JVM and its Python workers, Ray's daemons and actors, Ray's shared object store counted
once), then checks that every table each engine
wrote equals the command line's, row for row and in order. Exit status: 0 when they all
do, 1 otherwise.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TABLES = ["pushes", "digest", "unlocks", "notices", "grants", "near_misses",
          "undetermined", "errors", "rejects"]


def pss(pid: int) -> int:
    """Proportional set size in bytes: a page shared by n processes counts 1/n in each,
    so that the sum over a tree counts Ray's shared object store once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError):
        pass
    return 0


def tree_memory(root: int) -> int:
    """Memory of `root` and every descendant (PSS), from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += pss(pid)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd, env, ok=(0, 2)):
    """Runs `cmd`; returns (wall seconds, peak MiB of its process tree)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_memory(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if proc.returncode not in ok:
        sys.exit(f"{cmd[0]} {cmd[1]} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return wall, peak[0] / (1 << 20)


def read(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policy_match.dataflow import plain_text

    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    return plain_text(pa.concat_tables([pq.read_table(f) for f in files]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--as-of", default="2025-06-30")
    ap.add_argument("--binary", default=str(REPO / "target" / "release" / "policy-match"))
    ap.add_argument("--keep", default=None, help="work in this folder and keep it")
    args = ap.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="pm-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1",
               RAY_AUTH_MODE="disabled")
    pop = work / "population.parquet"
    subprocess.run([args.binary, "gen", "--count", str(args.count), "--seed", str(args.seed),
                    "--out", str(pop)], check=True, stdout=subprocess.DEVNULL)
    common = ["--enterprises", str(pop), "--as-of", args.as_of]
    runs = {
        "cli": [args.binary, "match", "--format", "parquet", "--threads", str(args.cpus),
                *common],
        "spark": [sys.executable, str(REPO / "examples" / "spark_match.py"),
                  "--master", f"local[{args.cpus}]", *common],
        "ray": [sys.executable, str(REPO / "examples" / "ray_match.py"),
                "--cpus", str(args.cpus), *common],
    }
    print(f"{args.count} enterprises (seed {args.seed}), {args.cpus} CPUs, as of {args.as_of}, "
          f"median of {args.repeat}")
    print(f"{'run':<8}{'wall s':>10}{'peak MiB':>12}{'vs cli':>10}")
    results = {}
    for name, cmd in runs.items():
        out = work / name
        walls, peaks = [], []
        for _ in range(args.repeat):
            wall, peak = run_measured([*cmd, "--out", str(out)], env)
            walls.append(wall)
            peaks.append(peak)
        results[name] = (statistics.median(walls), max(peaks))
        ratio = results[name][0] / results["cli"][0]
        print(f"{name:<8}{results[name][0]:>10.1f}{results[name][1]:>12.0f}{ratio:>9.1f}x",
              flush=True)

    same = True
    for name in ["spark", "ray"]:
        for table in TABLES:
            got, expected = read(work / name / f"{table}.parquet"), read(
                work / "cli" / f"{table}.parquet")
            equal = got.column_names == expected.column_names and got.cast(
                expected.schema).equals(expected)
            if not equal:
                print(f"{name}: {table} differs from the command line's")
                same = False
    pushes = read(work / "cli" / "pushes.parquet").num_rows
    print(f"every table identical to the command line's ({pushes} pushes): {same}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
