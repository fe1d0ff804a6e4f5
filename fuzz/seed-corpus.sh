#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds from rules/ and fixtures/ and small generated
# populations. Run from the repository root before `cargo +nightly fuzz run <target>`.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
mkdir -p "$corpus"/{rules,csv,jsonl,parquet}

# rules: a pick byte (0 schema, 1 centre, 2 a measure), then the file's text.
seed_rule() { { printf "\\x$(printf %02x "$1")"; cat "$2"; } > "$corpus/rules/$3"; }
seed_rule 0 rules/schema.toml schema
seed_rule 1 rules/centre.toml centre
for f in rules/measures/*.toml fixtures/broken_rules/measures/*.toml \
         fixtures/broken_rules/measures/more/*.toml fixtures/hostile_rules/*/*.toml; do
  seed_rule 2 "$f" "$(echo "$f" | tr / _)"
done

bin=target/debug/policy-match
cargo build --quiet --bin policy-match
for ext in csv jsonl parquet; do
  for seed in 1 2; do
    "$bin" gen --count 20 --seed "$seed" --bad-rows 0.2 --out "$corpus/$ext/gen-$seed.$ext" >/dev/null
  done
done
cp fixtures/enterprises.jsonl "$corpus/jsonl/fixtures.jsonl"
echo "seeded: $(ls "$corpus"/rules | wc -l) rules, $(ls "$corpus"/csv | wc -l) csv, $(ls "$corpus"/jsonl | wc -l) jsonl, $(ls "$corpus"/parquet | wc -l) parquet"
