//! The service's metrics in the Prometheus text format (`GET /metrics`): requests by route
//! and status, latency by route, the catalog serving (hash, measures, when and how fast
//! it loaded), reloads by trigger and result, profiles answered.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of `GET /metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HashLabels {
    hash: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    trigger: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProfileLabels {
    result: &'static str,
}

/// Latency buckets: 50 µs to about 3.3 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 17))
}

/// Every metric of the service, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    catalog: Family<HashLabels, Gauge>,
    measures: Gauge,
    loaded_at: Gauge<f64, AtomicU64>,
    load_seconds: Gauge<f64, AtomicU64>,
    reloads: Family<ReloadLabels, Counter>,
    profiles: Family<ProfileLabels, Counter>,
}

impl Metrics {
    /// Registers every metric under the prefix `policy_match`.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("policy_match");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from the request read to the answer, by route",
            latency.clone(),
        );
        let catalog = Family::<HashLabels, Gauge>::default();
        registry.register(
            "catalog_info",
            "The catalog serving now: 1 for its hash",
            catalog.clone(),
        );
        let measures = Gauge::default();
        registry.register(
            "catalog_measures",
            "Measures of the catalog serving now",
            measures.clone(),
        );
        let loaded_at = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "catalog_loaded_timestamp_seconds",
            "When the catalog serving now was loaded (Unix time)",
            loaded_at.clone(),
        );
        let load_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "catalog_load_duration_seconds",
            "How long reading, checking and compiling the catalog serving now took",
            load_seconds.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "reloads",
            "Reloads of the rules directory, by trigger (signal, http) and result (ok, rejected)",
            reloads.clone(),
        );
        let profiles = Family::<ProfileLabels, Counter>::default();
        registry.register(
            "profiles",
            "Profiles sent to /v1/recommend and /v1/match, by result (answered, rejected)",
            profiles.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            catalog,
            measures,
            loaded_at,
            load_seconds,
            reloads,
            profiles,
        }
    }

    /// One answered request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// A catalog now serving: its hash replaces the last one.
    pub fn catalog_loaded(&self, hash: &str, measures: usize, unix_seconds: f64, took: f64) {
        self.catalog.clear();
        self.catalog
            .get_or_create(&HashLabels {
                hash: hash.to_owned(),
            })
            .set(1);
        self.measures
            .set(i64::try_from(measures).unwrap_or(i64::MAX));
        self.loaded_at.set(unix_seconds);
        self.load_seconds.set(took);
    }

    /// A reload, by trigger (`signal`, `http`), accepted or rejected.
    pub fn reload(&self, trigger: &'static str, ok: bool) {
        let result = if ok { "ok" } else { "rejected" };
        self.reloads
            .get_or_create(&ReloadLabels { trigger, result })
            .inc();
    }

    /// Profiles answered and rejected by one request.
    pub fn profiles(&self, answered: usize, rejected: usize) {
        for (result, n) in [("answered", answered), ("rejected", rejected)] {
            if n > 0 {
                self.profiles
                    .get_or_create(&ProfileLabels { result })
                    .inc_by(n as u64);
            }
        }
    }

    /// The metrics in the OpenMetrics text format, which Prometheus reads.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
