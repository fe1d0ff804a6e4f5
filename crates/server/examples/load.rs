//! Load test of `policy-match serve`: keep-alive connections post profiles to
//! `/v1/recommend` while one rule file is edited and reloaded under them, by
//! `POST /v1/reload` and by SIGHUP in turn.
//!
//! ```text
//! cargo run --release -p policy-match-server --example load -- \
//!     --bin target/release/policy-match --profiles FILE.jsonl [--seconds 30] \
//!     [--connections 16] [--malformed 0.01] [--reload-every-ms 1000] [--threads 2] \
//!     [--max-requests N] [--rules-src rules]
//! ```
//!
//! Exit 1 on any 5xx, connection error (refused, reset, closed under a request or between
//! two), status other than 200 for a profile and 400 `malformed_json` for a truncated one,
//! answer from a catalog never served, failed reload, or a server that does not exit with
//! status 0 within 15 s of SIGTERM. Exit 2: the test could not run (arguments, no server).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher as _;
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::sync::watch;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;
type Sender = SendRequest<Full<Bytes>>;

/// The rule file switched between two versions, and the edit that makes the second: a
/// threshold of its `when`. 0.51 keeps every `[[example]]` of the file true, so that the
/// edited copy also passes `policy-match test`.
const MEASURE: &str = "measures/M017.toml";
const EDIT: (&str, &str) = ("energy_intensity < 0.52", "energy_intensity < 0.51");
/// Past this, a request counts as a connection error rather than being waited for.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages kept for the report; the counts are complete.
const NOTES_KEPT: usize = 8;
const USAGE: &str = "usage: load --bin PATH --profiles FILE.jsonl [--seconds 30] \
[--connections 16] [--malformed 0.01] [--reload-every-ms 1000] [--threads 2] \
[--max-requests N] [--rules-src rules]";

/// The checks, each an index into [`Tally::problems`]; any count above 0 fails the test.
/// A 5xx is also unexpected; so is a 200 without a `catalog_hash`.
const PROBLEMS: [&str; 4] = ["connection errors", "5xx", "unexpected", "bad reloads"];
const CONNECTION: usize = 0;
const SERVER_ERROR: usize = 1;
const UNEXPECTED: usize = 2;
const RELOAD: usize = 3;

/// The option `name` parsed, or `default` (`None`: required).
fn opt<T: FromStr>(given: &mut HashMap<&str, &str>, name: &str, default: Option<T>) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match given.remove(name) {
        Some(v) => (v.parse()).map_err(|e| format!("{name} {v}: {e}\n{USAGE}").into()),
        None => default.ok_or_else(|| format!("{name} is required\n{USAGE}").into()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::from(2)
        }
    }
}

/// The whole test; `Ok(false)` when it ran and a check failed.
fn run() -> Result<bool> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if !raw.len().is_multiple_of(2) {
        return Err(format!("every option takes a value\n{USAGE}").into());
    }
    let mut given: HashMap<_, _> = raw.chunks(2).map(|p| (&*p[0], &*p[1])).collect();
    let g = &mut given;
    let bin: PathBuf = opt(g, "--bin", None)?;
    let profiles_path: PathBuf = opt(g, "--profiles", None)?;
    let rules_src: PathBuf = opt(g, "--rules-src", Some("rules".into()))?;
    let seconds: f64 = opt(g, "--seconds", Some(30.0))?;
    let connections: usize = opt(g, "--connections", Some(16))?;
    let malformed: f64 = opt(g, "--malformed", Some(0.01))?;
    let reload_every_ms: u64 = opt(g, "--reload-every-ms", Some(1000))?;
    let threads: usize = opt(g, "--threads", Some(2))?;
    let max_requests: u64 = opt(g, "--max-requests", Some(u64::MAX))?;
    // `opt` removes what it reads: anything left is a typo.
    if let Some(flag) = given.keys().next() {
        return Err(format!("unknown option {flag}\n{USAGE}").into());
    }
    // The reload timer cannot tick every 0 ms; the rest would test nothing.
    let sane = seconds > 0.0 && connections > 0 && threads > 0 && reload_every_ms > 0;
    if !sane || !(0.0..=1.0).contains(&malformed) {
        return Err(format!("a value is out of range\n{USAGE}").into());
    }
    let text = std::fs::read_to_string(&profiles_path)
        .map_err(|e| format!("cannot read {}: {e}", profiles_path.display()))?;
    let profiles: Vec<Bytes> = (text.lines())
        .filter(|l| !l.trim().is_empty())
        .map(|l| Bytes::copy_from_slice(l.as_bytes()))
        .collect();
    if profiles.is_empty() {
        return Err(format!("no profile in {}", profiles_path.display()).into());
    }
    // The server reads a copy: the edits never touch the repository's rules.
    let rules = tempfile::tempdir()?;
    let mut from = rules_src.clone().into_os_string();
    from.push("/."); // `cp -R DIR/. TO`: what DIR holds, into TO
    let copied = Command::new("cp")
        .arg("-R")
        .arg(from)
        .arg(rules.path())
        .status()?;
    if !copied.success() {
        return Err(format!("cannot copy {}: cp {copied}", rules_src.display()).into());
    }
    let original = std::fs::read_to_string(rules.path().join(MEASURE))?;
    let edited = original.replacen(EDIT.0, EDIT.1, 1);
    if edited == original {
        return Err(format!("`{}` not found in {MEASURE}", EDIT.0).into());
    }
    let token = format!("{:016x}{:016x}", random_u64(), random_u64());
    let (mut server, addr) = Server::start(&bin, threads, rules.path(), &token)?;
    let runtime = tokio::runtime::Runtime::new()?;
    // Up and answering: the load starts on a server ready for it.
    let first = runtime.block_on(wait_for_hash(addr, None, Duration::from_secs(10)))?;
    let shared = Arc::new(Shared {
        addr,
        pid: server.0.id(),
        profiles,
        malformed,
        deadline: Instant::now() + Duration::from_secs_f64(seconds),
        max_requests,
        issued: AtomicU64::new(0),
        rules: rules.path().to_owned(),
        versions: [original, edited],
        token,
        reload_every: Duration::from_millis(reload_every_ms),
        tally: Mutex::default(),
    });
    let passed = runtime.block_on(drive(connections, shared, first))?;

    // Stopping is part of the test: the requests are done, the server must exit cleanly.
    let started = Instant::now();
    let exit = server.stop(Duration::from_secs(15));
    let took = started.elapsed().as_secs_f64();
    match &exit {
        Ok(status) => println!("server exit        {status} after {took:.3} s (SIGTERM)"),
        Err(e) => println!("server exit        FAILED: {e}"),
    }
    let passed = passed && exit.is_ok_and(|status| status.success());
    let verdict = if passed { "PASS" } else { "FAIL" };
    println!("result             {verdict}");
    Ok(passed)
}

/// What the tasks share: the setup, and what they saw.
struct Shared {
    addr: SocketAddr,
    pid: u32,
    profiles: Vec<Bytes>,
    malformed: f64,
    deadline: Instant,
    max_requests: u64,
    /// Requests started by all workers: the round robin, and the `--max-requests` bound.
    issued: AtomicU64,
    /// The served copy of the rules, and the two versions of its [`MEASURE`].
    rules: PathBuf,
    versions: [String; 2],
    token: String,
    reload_every: Duration,
    /// Locked for a few counter updates, never across an await: next to a request of
    /// hundreds of microseconds, it costs nothing measurable.
    tally: Mutex<Tally>,
}

impl Shared {
    fn tally(&self) -> MutexGuard<'_, Tally> {
        // A poisoned lock only means a task panicked: its counts are still counts.
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What was seen, for the report.
#[derive(Default)]
struct Tally {
    /// Latency in microseconds of every answer to `/v1/recommend`, by status.
    latency_us: BTreeMap<u16, Vec<u64>>,
    malformed_sent: u64,
    /// Recommend answers by `catalog_hash`.
    hashes: HashMap<String, u64>,
    /// Every catalog hash served: at the start, and before and after each reload.
    known: HashSet<String>,
    /// HTTP reloads sent and answered well; SIGHUPs sent and seen in `/health`.
    http_reloads: (u64, u64),
    signals: (u64, u64),
    problems: [u64; PROBLEMS.len()],
    notes: Vec<String>,
}

impl Tally {
    fn problem(&mut self, which: usize, message: String) {
        self.problems[which] += 1;
        if self.notes.len() < NOTES_KEPT {
            self.notes.push(format!("{}: {message}", PROBLEMS[which]));
        }
    }

    fn answer(&mut self, status: StatusCode, us: u64, malformed: bool, body: &[u8]) {
        self.latency_us.entry(status.as_u16()).or_default().push(us);
        if status.is_server_error() {
            self.problem(SERVER_ERROR, format!("{status}: {}", snippet(body)));
        }
        // Only the fields checked are parsed: the client stays cheap next to the server.
        let parsed = serde_json::from_slice::<Answer>(body).ok();
        if !malformed && status == StatusCode::OK {
            if let Some(hash) = parsed.and_then(|a| a.catalog_hash) {
                *self.hashes.entry(hash).or_default() += 1;
                return;
            }
        } else if malformed && status == StatusCode::BAD_REQUEST {
            let code = parsed.and_then(|a| a.error).map(|e| e.code);
            if code.as_deref() == Some("malformed_json") {
                return;
            }
        }
        let what = if malformed { "malformed" } else { "good" };
        let message = format!("{what} request answered {status}: {}", snippet(body));
        self.problem(UNEXPECTED, message);
    }
}

/// The fields checked, of any answer; serde skips the rest.
#[derive(Deserialize)]
struct Answer {
    catalog_hash: Option<String>,
    previous_hash: Option<String>,
    error: Option<ErrorCode>,
}

#[derive(Deserialize)]
struct ErrorCode {
    code: String,
}

/// Runs the load and the reloads while sampling the server's memory, and prints the
/// report; false when a check failed. `first` is the hash of the catalog at the start.
async fn drive(connections: usize, shared: Arc<Shared>, first: String) -> Result<bool> {
    let started = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let reloader = tokio::spawn(reload_loop(Arc::clone(&shared), first, stopped));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        workers.spawn(worker(Arc::clone(&shared)));
    }
    let mut rss = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = ticks.tick() => rss.extend(vm_rss_kib(shared.pid)),
            done = workers.join_next() => match done {
                Some(joined) => joined?,
                None => break,
            },
        }
    }
    let duration = started.elapsed();
    rss.extend(vm_rss_kib(shared.pid));
    // An error only means that the reloader has ended already.
    let _ = stop.send(true);
    reloader.await?;
    let metrics = match admin(shared.addr, "/metrics", None).await {
        Ok((StatusCode::OK, body)) => String::from_utf8_lossy(&body).into_owned(),
        other => format!("policy_match_reloads_total unknown: GET /metrics {other:?}"),
    };
    Ok(report(duration, &shared.tally(), &metrics, &rss))
}

/// Prints the report; true when every check passed.
fn report(duration: Duration, t: &Tally, metrics: &str, rss: &[u64]) -> bool {
    let total: usize = t.latency_us.values().map(Vec::len).sum();
    let (secs, malformed) = (duration.as_secs_f64(), t.malformed_sent);
    println!("duration           {secs:.3} s");
    let rate = total as f64 / secs;
    println!("requests           {total} ({rate:.1}/s), {malformed} of them malformed");
    for (status, lat) in &t.latency_us {
        let mut sorted = lat.clone();
        sorted.sort_unstable();
        let p = |q| format!("{:.3}", percentile(&sorted, q) as f64 / 1000.0);
        let (p50, p90, p99, max) = (p(0.50), p(0.90), p(0.99), p(1.0));
        let n = sorted.len();
        println!("status {status} {n:>11}  ms: p50 {p50}  p90 {p90}  p99 {p99}  max {max}");
    }
    let ((sent, ok), (signals, seen)) = (t.http_reloads, t.signals);
    println!("reloads            http ok {ok}/{sent}, signal sent {signals} (seen {seen})");
    let counters = metrics.lines();
    for line in counters.filter(|l| l.starts_with("policy_match_reloads_total")) {
        println!("  {line}");
    }
    let mib = |kib: Option<&u64>| kib.map_or(f64::NAN, |&k| k as f64 / 1024.0);
    let (first, last, max) = (mib(rss.first()), mib(rss.last()), mib(rss.iter().max()));
    let n = rss.len();
    println!("rss MiB            first {first:.1}, last {last:.1}, max {max:.1} ({n} samples)");
    // Checked against every hash served by the end: an answer may come from a catalog
    // before the reload that swapped it in has answered the reloader.
    let unknown: u64 = (t.hashes.iter())
        .filter(|(h, _)| !t.known.contains(*h))
        .map(|(_, n)| n)
        .sum();
    let (served, answered) = (t.known.len(), t.hashes.len());
    println!("catalog hashes     {served} served, {answered} answered, {unknown} unknown");
    for (name, n) in PROBLEMS.iter().zip(t.problems) {
        println!("{name:<18} {n}");
    }
    for note in &t.notes {
        println!("  ! {note}");
    }
    t.problems.iter().all(|&n| n == 0) && unknown == 0 && total > 0
}

/// One connection's loop: request after request on one keep-alive connection until the
/// deadline or the request budget. After a connection error it reconnects, so that one
/// failure does not end its share of the load.
async fn worker(shared: Arc<Shared>) {
    let mut sender: Option<Sender> = None;
    let host = shared.addr.to_string();
    while Instant::now() < shared.deadline {
        let n = shared.issued.fetch_add(1, Ordering::Relaxed);
        if n >= shared.max_requests {
            break;
        }
        let profile = &shared.profiles[(n % shared.profiles.len() as u64) as usize];
        // 53 random bits as a fraction of 1.
        let draw = (random_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let malformed = draw < shared.malformed;
        // Half a JSON object ends inside it: a syntax error, never a profile.
        let body = match malformed {
            true => profile.slice(..profile.len() / 2),
            false => profile.clone(),
        };
        let s = match &mut sender {
            Some(s) => s,
            None => match connect(shared.addr).await {
                Ok(s) => sender.insert(s),
                Err(e) => {
                    shared.tally().problem(CONNECTION, format!("connect: {e}"));
                    // The server is probably gone: do not spin on it.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let request = Request::post("/v1/recommend?as_of=2025-06-30")
            .header(header::HOST, &host)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .expect("valid"); // A constant path and headers, an address as the host.
        let started = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, exchange(s, request)).await;
        let us = started.elapsed().as_micros() as u64;
        let mut t = shared.tally();
        t.malformed_sent += u64::from(malformed);
        let lost = match answer {
            Ok(Ok((status, keep_alive, body))) => {
                t.answer(status, us, malformed, &body);
                (!keep_alive).then(|| format!("the server closed the connection after {status}"))
            }
            // Debug: hyper's Display says only "connection error", its Debug says which.
            Ok(Err(e)) => Some(format!("{e:?}")),
            Err(_) => Some(format!("no answer in {REQUEST_TIMEOUT:?}")),
        };
        if let Some(message) = lost {
            t.problem(CONNECTION, message);
            sender = None;
        }
    }
}

/// A new HTTP/1.1 connection; its driver is a task of its own that ends when the sender
/// is dropped (an error of it shows on the next request).
async fn connect(addr: SocketAddr) -> Result<Sender> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    // Requests are small: each is sent at once, as the server sends its answers.
    tcp.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One request on `s`: its status, whether the connection stays open, its body.
async fn exchange(s: &mut Sender, req: Request<Full<Bytes>>) -> Result<(StatusCode, bool, Bytes)> {
    // A connection the server closed while idle fails here: a dropped connection.
    s.ready().await?;
    let response = s.send_request(req).await?;
    let status = response.status();
    let closing = (response.headers().get(header::CONNECTION))
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, !closing, body))
}

/// One request to an operator's endpoint, on a connection of its own: GET, or with the
/// admin token, POST.
async fn admin(addr: SocketAddr, path: &str, token: Option<&str>) -> Result<(StatusCode, Bytes)> {
    let mut request = Request::get(path).header(header::HOST, addr.to_string());
    if let Some(token) = token {
        request = request.method(Method::POST);
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let mut sender = connect(addr).await?;
    let exchanged = exchange(&mut sender, request.body(Full::default())?);
    let (status, _, body) = tokio::time::timeout(REQUEST_TIMEOUT, exchanged).await??;
    Ok((status, body))
}

/// Polls `/health` until it serves a catalog other than `not` (any, for `None`), for up
/// to `within`; that catalog's hash.
async fn wait_for_hash(addr: SocketAddr, not: Option<&str>, within: Duration) -> Result<String> {
    let until = Instant::now() + within;
    loop {
        let health = admin(addr, "/health", None).await;
        let hash = match &health {
            Ok((StatusCode::OK, body)) => serde_json::from_slice::<Answer>(body)?.catalog_hash,
            _ => None,
        };
        if let Some(hash) = hash.filter(|h| Some(h.as_str()) != not) {
            return Ok(hash);
        }
        if Instant::now() > until {
            let last = health.map(|(status, body)| format!("{status} {}", snippet(&body)));
            return Err(format!("/health after {within:?}: {last:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every period, switches the rule file to its other version and reloads: by
/// `POST /v1/reload` and by SIGHUP in turn, until told to stop (never within a reload).
/// `serving` is the hash of the catalog serving at the start.
async fn reload_loop(shared: Arc<Shared>, mut serving: String, mut stop: watch::Receiver<bool>) {
    let (addr, pid, rules) = (shared.addr, shared.pid.to_string(), &shared.rules);
    let fail = |message: String| shared.tally().problem(RELOAD, message);
    shared.tally().known.insert(serving.clone());
    let mut ticks = tokio::time::interval(shared.reload_every);
    // The first tick is immediate: the first reload comes one period into the load.
    ticks.tick().await;
    for turn in 0usize.. {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => break,
        }
        // Written beside the file and renamed over it, so that a reload reading meanwhile
        // sees one whole version; out of `measures/` and not `.toml`, so never a rule.
        // (Blocking IO, but a few small files once a period: not worth `spawn_blocking`.)
        let tmp = rules.join("measure.tmp");
        let switched = std::fs::write(&tmp, &shared.versions[(turn + 1) % 2])
            .and_then(|()| std::fs::rename(&tmp, rules.join(MEASURE)));
        if let Err(e) = switched {
            fail(format!("cannot switch {MEASURE}: {e}"));
            continue;
        }
        let hash = if turn.is_multiple_of(2) {
            shared.tally().http_reloads.0 += 1;
            let answer = admin(addr, "/v1/reload", Some(&shared.token)).await;
            match answer.map(|(s, b)| (s, serde_json::from_slice::<Answer>(&b).ok(), b)) {
                Ok((StatusCode::OK, Some(a), _))
                    if a.catalog_hash.is_some() && a.catalog_hash != a.previous_hash =>
                {
                    let mut t = shared.tally();
                    t.http_reloads.1 += 1;
                    t.known.extend(a.previous_hash);
                    a.catalog_hash.ok_or_else(|| "no catalog_hash".to_owned())
                }
                Ok((status, _, body)) => {
                    Err(format!("POST /v1/reload: {status} {}", snippet(&body)))
                }
                Err(e) => Err(format!("POST /v1/reload: {e}")),
            }
        } else {
            match Command::new("kill").args(["-HUP", &pid]).status() {
                Ok(status) if status.success() => shared.tally().signals.0 += 1,
                Ok(status) => fail(format!("kill -HUP {pid}: {status}")),
                Err(e) => fail(format!("kill -HUP {pid}: {e}")),
            }
            // The signal has no answer: the catalog serving says when it is done, and its
            // hash is one that answers may carry from then on.
            let seen = wait_for_hash(addr, Some(&serving), Duration::from_secs(5)).await;
            shared.tally().signals.1 += u64::from(seen.is_ok());
            seen.map_err(|e| format!("after SIGHUP: {e}"))
        };
        match hash {
            Ok(hash) => {
                serving = hash.clone();
                shared.tally().known.insert(hash);
            }
            Err(message) => fail(message),
        }
    }
}

/// The resident set size of process `pid`, in KiB; `None` once it is gone.
fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The server under test; killed if the test ends without stopping it.
struct Server(Child);

impl Server {
    /// Starts the server; it and the address from its one line on stdout.
    fn start(
        bin: &Path,
        threads: usize,
        rules: &Path,
        token: &str,
    ) -> Result<(Server, SocketAddr)> {
        let mut child = Command::new(bin)
            .args(["serve", "--rules"])
            .arg(rules)
            .args(["--listen", "127.0.0.1:0", "--admin-token", token])
            .args(["--threads", &threads.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take();
        // Owned from here, so that an early return kills it.
        let server = Server(child);
        let mut reader = std::io::BufReader::new(stdout.ok_or("the server's stdout is lost")?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let addr = (line.trim().strip_prefix("listening on http://"))
            .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?
            .parse()?;
        // Anything more the server writes (it should write nothing) is passed on, so that
        // its stdout never fills or breaks.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::stderr()));
        Ok((server, addr))
    }

    /// SIGTERM, then waits up to `grace` for the exit (past it, `drop` kills it).
    fn stop(&mut self, grace: Duration) -> Result<std::process::ExitStatus> {
        let started = Instant::now();
        let pid = self.0.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !sent.success() {
            return Err(format!("kill -TERM {pid}: {sent}").into());
        }
        while started.elapsed() < grace {
            if let Some(status) = self.0.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("still running {grace:?} after SIGTERM (killed)").into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Harmless on a server that has exited (and been waited for) already.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The nearest-rank percentile `q` (0..=1) of sorted values; 0 for none.
fn percentile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0)
}

/// The start of a body, for a message.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// 64 bits that differ from call to call and from run to run: std's hash keys are random.
fn random_u64() -> u64 {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    std::collections::hash_map::RandomState::new().hash_one(call)
}
