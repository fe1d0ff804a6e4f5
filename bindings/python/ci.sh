#!/usr/bin/env bash
# The Python package's check, one step of .ci/run (and runnable by hand from anywhere):
# a virtual environment (made once, then reused) with maturin and pytest pinned; the
# extension built in the dev profile by `maturin develop` into the workspace's target
# folder (CARGO_TARGET_DIR honoured), so the core is not built in a second place; the
# CLI binary the tests compare against; then pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=${PYTHON:-python3}
target=$(cargo metadata --locked --format-version 1 --no-deps |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="$target/py-venv"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
# Pinned: maturin decides how the wheel is laid out, pytest how the tests are run, pyarrow
# feeds `match_arrow` and reads the command line's Parquet output to compare; PySpark and
# Ray Data run the examples (`tests/test_engines.py`); pandas below 3, which PySpark 4.3
# warns it does not yet support; Pillow looks at the report's screenshot (the browser
# step of .ci/run uses this environment). Spark needs a Java 17 on the PATH.
python -m pip install --quiet --disable-pip-version-check maturin==1.16.0 pytest==9.2.0 \
  pyarrow==26.0.0 pyspark==4.3.0 'ray[data]==2.60.0' 'pandas<3' pillow==12.0.0
# The engine tests start a local Ray: no token to log in with, and no dashboard.
export RAY_AUTH_MODE=disabled

# The dev profile (no --release): the same profile as `cargo test`, a fraction of the
# build time. The wheel is installed editable: the extension lands in
# bindings/python/python/policy_match/ (ignored by git).
maturin develop --quiet --manifest-path bindings/python/Cargo.toml

cargo build --locked --quiet -p policy-match-cli
export POLICY_MATCH_CLI="$target/debug/policy-match"

python -m pytest -p no:cacheprovider bindings/python/tests "$@"
