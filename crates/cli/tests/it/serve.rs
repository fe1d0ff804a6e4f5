//! `policy-match serve` as a process: the port it prints, SIGHUP reloads (a bad rules
//! directory refused, the old catalog serving on), SIGTERM finishing the request in
//! flight and exiting 0, no enterprise data in the request log, and its start-up errors.
//! The endpoints themselves are tested in-process by `crates/server/tests/api.rs`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{assert_code, cmd, copy_tree, p};
use crate::support::root;

const TOKEN: &str = "serve-test-token-0123456789";

/// A `serve` process and the address it printed.
struct Served {
    child: Child,
    addr: String,
}

impl Served {
    fn start(rules: &Path) -> Served {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("policy-match"));
        command
            .current_dir(root())
            .args([
                "serve",
                "--rules",
                p(rules),
                "--listen",
                "127.0.0.1:0",
                "--threads",
                "2",
            ])
            .env("POLICY_MATCH_ADMIN_TOKEN", TOKEN)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("serve starts");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("not the listening line: `{line}`"))
            .to_owned();
        Served { child, addr }
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// One request on a fresh connection: (status, body).
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("sent");
        read_answer(stream)
    }

    fn health_hash(&self) -> String {
        let (status, body) = self.request("GET", "/health", "");
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        json["catalog_hash"].as_str().expect("a hash").to_owned()
    }

    /// Waits until `/metrics` holds `line` (a reload by signal is not answered).
    fn wait_for_metric(&self, line: &str) -> String {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, metrics) = self.request("GET", "/metrics", "");
            if metrics.contains(line) {
                return metrics;
            }
            assert!(
                Instant::now() < until,
                "`{line}` never showed in\n{metrics}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the process to end: its exit code and stderr.
    fn wait(mut self) -> (Option<i32>, String) {
        let until = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                break status;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("serve did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .expect("piped")
            .read_to_string(&mut stderr)
            .expect("stderr");
        (status.code(), stderr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The status and body of an HTTP/1.1 answer read to the end of the connection.
fn read_answer(mut stream: TcpStream) -> (u16, String) {
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("an answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    (status, body.to_owned())
}

/// Rewrites M017 through a rename, so that a reload reads the old file or the new.
fn rewrite_m017(rules: &Path, from: &str, to: &str) {
    let path = rules.join("measures/M017.toml");
    let text = std::fs::read_to_string(&path).expect("M017");
    assert!(text.contains(from));
    let staged = rules.parent().expect("a parent").join("M017.staged");
    std::fs::write(&staged, text.replace(from, to)).expect("written");
    std::fs::rename(staged, path).expect("renamed");
}

#[test]
fn sighup_reloads_and_sigterm_finishes_the_request_in_flight() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let rules = dir.path().join("rules");
    copy_tree(&root().join("rules"), &rules);
    let served = Served::start(&rules);
    let first = served.health_hash();

    rewrite_m017(&rules, "energy_intensity < 0.52", "energy_intensity < 0.40");
    served.signal("HUP");
    served.wait_for_metric("policy_match_reloads_total{trigger=\"signal\",result=\"ok\"} 1");
    let second = served.health_hash();
    assert_ne!(second, first);

    rewrite_m017(&rules, "energy_intensity < 0.40", "energy_intensty < 0.40");
    served.signal("HUP");
    served.wait_for_metric("policy_match_reloads_total{trigger=\"signal\",result=\"rejected\"} 1");
    assert_eq!(
        served.health_hash(),
        second,
        "the old catalog keeps serving"
    );

    // A request in flight when SIGTERM comes: its body is half sent.
    let fixtures =
        std::fs::read_to_string(root().join("fixtures/enterprises.jsonl")).expect("fixtures");
    let (head, tail) = fixtures.split_at(fixtures.len() / 2);
    let mut stream = TcpStream::connect(&served.addr).expect("connects");
    write!(
        stream,
        "POST /v1/match?as_of=2025-06-30 HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{head}",
        served.addr,
        fixtures.len()
    )
    .expect("sent");
    stream.flush().expect("flushed");
    std::thread::sleep(Duration::from_millis(200));
    served.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    stream
        .write_all(tail.as_bytes())
        .expect("the rest of the body");
    let (status, body) = read_answer(stream);
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["catalog_hash"], second.as_str());
    assert_eq!(answer["digests"].as_array().expect("digests").len(), 10);

    let (code, stderr) = served.wait();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("reload rejected, the old catalog keeps serving"),
        "{stderr}"
    );
    assert!(
        stderr.contains("energy_intensty"),
        "the refused rule is located: {stderr}"
    );
    assert!(stderr.contains("shutting down"), "{stderr}");
    let requests: Vec<&str> = stderr.lines().filter(|l| l.contains(" request ")).collect();
    assert!(requests.len() >= 5, "a line per request: {stderr}");
    assert!(
        requests.iter().all(|l| l.contains("request_id=")
            && l.contains("status=")
            && l.contains("latency_us=")),
        "{stderr}"
    );
    // No enterprise data at info: neither an id nor a name of the body.
    let first_profile: serde_json::Value =
        serde_json::from_str(fixtures.lines().next().expect("a line")).expect("JSON");
    for key in ["id", "name"] {
        let value = first_profile[key].as_str().expect("text");
        assert!(!stderr.contains(value), "`{value}` is in the log: {stderr}");
    }
}

#[test]
fn serve_refuses_a_short_token_and_a_busy_port() {
    let out = cmd()
        .args(["serve", "--admin-token", "short"])
        .output()
        .expect("runs");
    assert_code(&out, 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16 visible ASCII characters"));

    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = busy.local_addr().expect("bound").to_string();
    let out = cmd()
        .args(["serve", "--listen", &addr])
        .output()
        .expect("runs");
    assert_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on `{addr}`")),
        "{stderr}"
    );
}
