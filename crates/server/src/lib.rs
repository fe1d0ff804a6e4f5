//! `policy-match serve`: the catalog as an HTTP service, for platforms that are not Rust
//! or Python (the district's 企业综合服务平台, 浙里办 and 企业码 back ends).
//!
//! A thin member of the workspace around the core library: every answer is the core's
//! (`Catalog::recommend`, `Recommendation::digest`, the `explain --format json` shape,
//! `report::views`), from one catalog snapshot per request, with its hash. The catalog is
//! swapped whole on `SIGHUP` or `POST /v1/reload`; a rules directory that does not load
//! is refused and the old catalog keeps serving.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use policy_match_server::{Clock, Config, Service};
//! // The command line's clock reads the time; a fixed one answers as of one day.
//! struct Fixed;
//! impl Clock for Fixed {
//!     fn today(&self) -> jiff::civil::Date { jiff::civil::date(2025, 6, 30) }
//!     fn unix_seconds(&self) -> f64 { 1_751_212_800.0 }
//! }
//! let catalog = policy_match::Catalog::builtin().expect("the built-in catalog is valid");
//! let service = Service::new(catalog, Default::default(), Config::default(), Fixed);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! policy_match_server::serve(listener, service, policy_match_server::terminated()).await
//! # }
//! ```

mod config;
mod error;
mod metrics;
mod observe;
mod query;
mod routes;
mod serve;
mod service;

pub use config::{Config, Limits};
pub use error::ApiError;
pub use routes::router;
pub use serve::{reload_on_hangup, serve, terminated};
pub use service::{Clock, ReloadError, Service, Trigger};
