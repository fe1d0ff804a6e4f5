//! A service on 127.0.0.1 (a port the system picks) in this process, with a fixed clock,
//! and a small HTTP/1.1 client over hyper.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use policy_match::Catalog;
use policy_match_server::{Clock, Config, Service};
use serde_json::Value;
use tokio::sync::oneshot;

/// The date every request without `as_of` is answered as of.
pub const TODAY: jiff::civil::Date = jiff::civil::date(2025, 6, 30);

pub struct FixedClock;

impl Clock for FixedClock {
    fn today(&self) -> jiff::civil::Date {
        TODAY
    }
    fn unix_seconds(&self) -> f64 {
        1_751_212_800.0
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fixture enterprises, one JSON Lines line each.
pub fn fixture_lines() -> Vec<String> {
    std::fs::read_to_string(repo().join("fixtures/enterprises.jsonl"))
        .expect("the fixtures are readable")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

pub struct Server {
    pub addr: SocketAddr,
    pub service: Arc<Service>,
    client: Client<HttpConnector, Full<Bytes>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `{"error": {"code", …}}` code, asserting the status.
    pub fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        let error = self.json()["error"].clone();
        assert_eq!(error["code"], code, "{}", self.text);
        error
    }
}

impl Server {
    /// Serves `catalog` (loaded from `config.rules`, or the built-in one).
    pub async fn start(config: Config) -> Server {
        let catalog = match &config.rules {
            Some(dir) => Catalog::load_dir(dir).expect("the rules load"),
            None => Catalog::builtin().expect("the built-in catalog loads"),
        };
        let service = Service::new(catalog, Duration::from_millis(1), config, FixedClock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(policy_match_server::serve(
            listener,
            Arc::clone(&service),
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            addr,
            service,
            client: Client::builder(TokioExecutor::new()).build_http(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request
            .body(Full::new(body.into()))
            .expect("a valid request");
        let response = self.client.request(request).await.expect("an answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        Answer {
            status,
            headers,
            text: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[], Bytes::new()).await
    }

    pub async fn post(&self, path: &str, body: impl Into<Bytes>) -> Answer {
        self.send("POST", path, &[], body).await
    }

    /// Stops accepting, finishes what is in flight, and returns how serving ended.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .take()
            .expect("running")
            .await
            .expect("the server task")
    }
}

/// A copy of `rules/` in a temporary folder (its `rules/`), to change and reload.
pub fn rules_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let rules = dir.path().join("rules");
    copy_dir(&repo().join("rules"), &rules);
    (dir, rules)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copied");
        }
    }
}

/// Writes `text` to `path` (in the rules folder of [`rules_copy`]) whole: a reader sees
/// the old file or the new one, and no third file.
pub fn replace(rules: &Path, file: &str, text: &str) {
    let path = rules.join(file);
    let tmp = rules.parent().expect("rules_copy's folder").join("staged");
    std::fs::write(&tmp, text).expect("written");
    std::fs::rename(&tmp, path).expect("renamed");
}
