//! Criterion benches of evaluation alone (no reading, no writing): one enterprise against
//! the whole catalog, and a generated batch per engine, prefilter on and off, on 1 and 2
//! threads. `cargo bench --bench eval`; the end-to-end comparison with DuckDB is
//! `benches/harness.py`.

use std::hint::black_box;
use std::sync::LazyLock;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jiff::civil::{Date, date};
use policy_match::Catalog;
use policy_match::Outcome;
use policy_match::Profile;
use policy_match::eval::EngineKind;
use policy_match::eval::SweepOptions;
use policy_match::eval::columns::Columns;
use policy_match::profile::record::RawRecord;
use policy_match::synth;
use policy_match::synth::GenOptions;

const AS_OF: Date = date(2025, 6, 30);

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::builtin().expect("built-in catalog"));

/// The batch size; `POLICY_MATCH_BENCH_ROWS` overrides it for a quick run.
fn rows() -> usize {
    std::env::var("POLICY_MATCH_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn population(n: usize) -> Vec<Profile> {
    let c = &*CATALOG;
    let opts = GenOptions {
        count: n,
        seed: 7,
        bad_rows: 0.0,
    };
    (0..n)
        .map(|i| synth::record(&c.schema, &opts, i))
        .filter_map(|r: RawRecord| r.into_profile(&c.schema).ok())
        .collect()
}

fn one_enterprise(c: &mut Criterion) {
    let catalog = &*CATALOG;
    // A 规上 textile enterprise with most fields: the busiest kind of profile.
    let profiles = population(2000);
    let p = profiles
        .iter()
        .max_by_key(|p| (p.fields.len(), p.tags.len()))
        .expect("a profile");
    let mut g = c.benchmark_group("recommend_one_enterprise");
    g.throughput(Throughput::Elements(catalog.measures.len() as u64));
    for engine in [EngineKind::Native, EngineKind::Rhai] {
        g.bench_function(engine.as_str(), |b| {
            b.iter(|| {
                black_box(catalog.recommend_with(
                    black_box(p),
                    AS_OF,
                    &policy_match::EvalOptions { engine },
                ))
            })
        });
    }
    g.finish();
}

fn batch(c: &mut Criterion) {
    let catalog = &*CATALOG;
    let profiles = population(rows());
    let columns = Columns::new(catalog, &profiles);
    let pairs = (columns.len() * catalog.measures.len()) as u64;
    let mut g = c.benchmark_group(format!("batch_{}", columns.len()));
    g.sample_size(10);
    g.throughput(Throughput::Elements(pairs));
    let configs = [
        (EngineKind::Native, true),
        (EngineKind::Native, false),
        (EngineKind::Rhai, true),
    ];
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        for (engine, prefilter) in configs {
            let opts = SweepOptions {
                as_of: AS_OF,
                engine,
                prefilter,
            };
            let name = format!(
                "{}/{}",
                engine.as_str(),
                if prefilter {
                    "prefilter"
                } else {
                    "no_prefilter"
                }
            );
            g.bench_with_input(
                BenchmarkId::new(name, format!("{threads}_threads")),
                &opts,
                |b, opts| {
                    b.iter(|| {
                        pool.install(|| {
                            let blocks = catalog.sweep(
                                &columns,
                                opts,
                                || 0u64,
                                |eligible, _, pair, _| {
                                    *eligible += u64::from(pair.outcome == Outcome::Eligible)
                                },
                            );
                            black_box(blocks.iter().sum::<u64>())
                        })
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, one_enterprise, batch);
criterion_main!(benches);
