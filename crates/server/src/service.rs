//! The service's state: the catalog serving (swapped whole on reload), its setup, its
//! metrics and its clock; and the reload itself, shared by SIGHUP and `POST /v1/reload`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use jiff::civil::Date;
use policy_match::{Catalog, LoadError, SharedCatalog};

use crate::config::Config;
use crate::metrics::Metrics;

/// The service's clock: today for a request without `as_of`, and the time a catalog was
/// loaded. The command line gives its own (the project's one clock read); tests give a
/// fixed one.
pub trait Clock: Send + Sync + 'static {
    /// Today, the default `as_of`.
    fn today(&self) -> Date;
    /// Now, as Unix time in seconds.
    fn unix_seconds(&self) -> f64;
}

/// What asked for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// SIGHUP.
    Signal,
    /// `POST /v1/reload`.
    Http,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Signal => "signal",
            Trigger::Http => "http",
        }
    }
}

/// Why a reload was refused; the old catalog keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The service serves the built-in catalog, which has no directory to read again.
    #[error("the server serves the built-in catalog: start it with `--rules DIR` to reload")]
    BuiltIn,
    /// The rules directory did not load.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// The most diagnostics of a refused reload written to the log (all of them are in the
/// answer to `POST /v1/reload` and in `policy-match check`).
const MAX_LOGGED: usize = 20;

/// One running service: everything a request handler reads.
pub struct Service {
    catalog: SharedCatalog,
    config: Config,
    clock: Box<dyn Clock>,
    metrics: Metrics,
    /// One reload at a time: two at once would compile twice and race to swap.
    reloading: Mutex<()>,
    /// The start, in seconds, for request ids that differ across restarts.
    started: u64,
    /// Requests seen, for request ids.
    requests: AtomicU64,
    /// `/v1/match` evaluations running at once: one per core, the others wait (within
    /// their deadline) rather than crowd the cores and hold their bodies' profiles.
    evaluators: Arc<tokio::sync::Semaphore>,
}

impl Service {
    /// A service answering from `catalog`, which took `load` to load from
    /// `config.rules` (or the built-in rules).
    pub fn new(
        catalog: Catalog,
        load: std::time::Duration,
        config: Config,
        clock: impl Clock,
    ) -> Arc<Service> {
        let metrics = Metrics::new();
        let now = clock.unix_seconds();
        metrics.catalog_loaded(
            catalog.hash(),
            catalog.measures.len(),
            now,
            load.as_secs_f64(),
        );
        Arc::new(Service {
            catalog: SharedCatalog::new(catalog),
            config,
            clock: Box::new(clock),
            metrics,
            reloading: Mutex::new(()),
            started: now as u64,
            requests: AtomicU64::new(0),
            evaluators: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
        })
    }

    /// The catalog serving now: a request keeps it for its whole answer.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.current()
    }

    /// The setup.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Today, by the service's clock.
    pub fn today(&self) -> Date {
        self.clock.today()
    }

    /// A request id of our own: the start time and a counter, in hex.
    pub fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{n:x}", self.started)
    }

    /// Waits for one of the `/v1/match` evaluation permits (one per core); the work
    /// holds it to its end, even past a request dropped at its deadline.
    pub async fn evaluator(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.evaluators).acquire_owned().await.ok()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Reads the rules directory again, checks and compiles it, and swaps it in. Blocks
    /// for the load (run it off the async workers). On any error the old catalog keeps
    /// serving; the refusal is logged and counted either way.
    pub fn reload(&self, trigger: Trigger) -> Result<Arc<Catalog>, ReloadError> {
        // A poisoned lock only means an earlier reload panicked; the catalog is intact.
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        let result = match &self.config.rules {
            None => Err(ReloadError::BuiltIn),
            Some(dir) => self.catalog.reload_dir(dir).map_err(ReloadError::from),
        };
        let took = started.elapsed();
        self.metrics.reload(trigger.as_str(), result.is_ok());
        match &result {
            Ok(catalog) => {
                self.metrics.catalog_loaded(
                    catalog.hash(),
                    catalog.measures.len(),
                    self.clock.unix_seconds(),
                    took.as_secs_f64(),
                );
                tracing::info!(
                    trigger = trigger.as_str(),
                    hash = catalog.hash(),
                    measures = catalog.measures.len(),
                    took_ms = took.as_millis() as u64,
                    "catalog reloaded"
                );
            }
            Err(e) => {
                tracing::warn!(
                    trigger = trigger.as_str(),
                    serving = self.catalog().hash(),
                    "reload rejected, the old catalog keeps serving: {e}"
                );
                // The rule files' problems, located: what the officer fixes.
                if let ReloadError::Load(LoadError::Invalid(diagnostics)) = e {
                    for d in diagnostics.iter().filter(|d| d.is_error()).take(MAX_LOGGED) {
                        tracing::warn!("{d}");
                    }
                }
            }
        }
        result
    }
}
