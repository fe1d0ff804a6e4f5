//! How the service is set up: where its rules are, the admin token, the limits of one
//! request, and how many pushes and unlocks an enterprise is told of by default.

use std::path::PathBuf;
use std::time::Duration;

/// The bounds on one request's work.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest body read; a larger one is refused with 413 before it is parsed.
    pub max_body_bytes: usize,
    /// The most profiles `/v1/match` takes in one request.
    pub max_profiles: usize,
    /// The longest a request may take, from its head read to its answer.
    pub request_timeout: Duration,
    /// The longest a connection may take to send a request head, idle keep-alive time
    /// included: then it is closed, unanswered.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 8 << 20,
            max_profiles: 1000,
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
        }
    }
}

/// The service's setup.
#[derive(Debug, Clone)]
pub struct Config {
    /// The rules directory served and reloaded; `None` for the built-in catalog, which
    /// cannot be reloaded.
    pub rules: Option<PathBuf>,
    /// The bearer token `POST /v1/reload` requires; `None` turns the endpoint off.
    pub admin_token: Option<String>,
    /// The bounds on one request.
    pub limits: Limits,
    /// Pushes an enterprise is told of when the request does not say (`max_pushes`).
    pub max_pushes: usize,
    /// Unlocks an enterprise is told of when the request does not say (`max_unlocks`).
    pub max_unlocks: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            rules: None,
            admin_token: None,
            limits: Limits::default(),
            max_pushes: policy_match::eval::DEFAULT_MAX_PUSHES,
            max_unlocks: policy_match::eval::DEFAULT_MAX_UNLOCKS,
        }
    }
}
