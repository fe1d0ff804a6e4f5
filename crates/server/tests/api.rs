//! The service against a server on 127.0.0.1 (a port the system picks): every endpoint,
//! every refusal, reloads, and a reload under traffic. Answers are compared with the
//! library's for the same catalog, and refusals with the command line's text.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use policy_match::report::{explain, views};
use policy_match::{Catalog, Profile};
use policy_match_server::{Config, Limits};
use serde_json::Value;
use support::{Server, TODAY, fixture_lines};

const TOKEN: &str = "test-admin-token-0123456789";

/// The library's `/v1/recommend` answer: `explain --format json` of `line`.
fn library_answer(catalog: &Catalog, line: &str, as_of: jiff::civil::Date) -> Value {
    let profile = Profile::from_json(catalog.schema(), line).expect("a fixture profile");
    let rec = catalog.recommend(&profile, as_of);
    let digest = rec.digest(catalog, 10, 3);
    serde_json::to_value(explain::to_json(catalog, &rec, &digest)).expect("JSON")
}

/// The reason the command line (`read_jsonl`, as `explain` and `match` read a file)
/// gives for `line`.
fn cli_reason(catalog: &Catalog, line: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("one.jsonl");
    std::fs::write(&path, format!("{line}\n")).expect("written");
    let (profiles, rejects) = policy_match::read_jsonl(catalog.schema(), &path).expect("read");
    assert!(profiles.is_empty(), "`{line}` is accepted");
    rejects[0].reason.clone()
}

fn with_fixture(line: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(line).expect("a fixture line");
    edit(&mut v);
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommend_answers_what_the_library_answers() {
    let server = Server::start(Config::default()).await;
    let catalog = server.service.catalog();
    for line in fixture_lines() {
        let answer = server
            .post("/v1/recommend?as_of=2025-06-30", line.clone())
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(
            answer.headers["content-type"], "application/json",
            "answers are JSON"
        );
        assert_eq!(answer.json(), library_answer(&catalog, &line, TODAY));
    }
    // Without `as_of`, the service's today; the caps as asked.
    let line = &fixture_lines()[0];
    let answer = server
        .post("/v1/recommend?max_pushes=1&max_unlocks=0", line.clone())
        .await;
    let json = answer.json();
    assert_eq!(json["as_of"], "2025-06-30");
    assert!(json["pushes"].as_array().expect("pushes").len() <= 1);
    assert_eq!(json["unlocks"], Value::Array(vec![]));
    assert!(answer.headers.contains_key("x-request-id"));
    server.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_answers_each_digest_and_lists_every_bad_line() {
    let server = Server::start(Config::default()).await;
    let catalog = server.service.catalog();
    let lines = fixture_lines();
    let mut body = lines.join("\n");
    body.push_str("\n\n{\"id\": \"91330603MA2BK7R4\n");
    body.push_str(&lines[0]);
    body.push('\n');
    let answer = server.post("/v1/match?as_of=2025-06-30", body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let json = answer.json();
    assert_eq!(json["catalog_hash"], catalog.hash());
    assert_eq!(json["as_of"], "2025-06-30");
    let digests = json["digests"].as_array().expect("digests");
    assert_eq!(digests.len(), lines.len());
    for (line, digest) in lines.iter().zip(digests) {
        // A digest is the recommend answer without its as_of, hash and results.
        let mut want = library_answer(&catalog, line, TODAY);
        let want = want.as_object_mut().expect("an object");
        for key in ["as_of", "catalog_hash", "results"] {
            want.remove(key);
        }
        assert_eq!(digest, &Value::Object(want.clone()));
    }
    let rejects = json["rejects"].as_array().expect("rejects");
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    let bad = lines.len() + 2;
    assert_eq!(rejects[0]["line"], bad);
    assert_eq!(
        rejects[0]["reason"],
        cli_reason(&catalog, "{\"id\": \"91330603MA2BK7R4")
    );
    assert_eq!(rejects[1]["line"], bad + 1);
    assert!(
        rejects[1]["reason"]
            .as_str()
            .expect("a reason")
            .starts_with("duplicate id"),
        "{rejects:?}"
    );
    let metrics = server.get("/metrics").await.text;
    assert!(
        metrics.contains(&format!(
            "policy_match_profiles_total{{result=\"answered\"}} {}",
            lines.len()
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("policy_match_profiles_total{result=\"rejected\"} 2"),
        "{metrics}"
    );
    server.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_profile_is_refused_with_the_command_lines_text() {
    let server = Server::start(Config::default()).await;
    let catalog = server.service.catalog();
    let line = fixture_lines()[0].clone();
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "malformed JSON",
            "{\"id\": \"9133\", \"name\": ".into(),
            400,
            "malformed_json",
        ),
        ("not an object", "[1, 2]".into(), 422, "invalid_profile"),
        (
            "unknown tag",
            with_fixture(&line, |v| {
                v["tags"]
                    .as_array_mut()
                    .expect("tags")
                    .push("kind:enterprize".into())
            }),
            422,
            "invalid_profile",
        ),
        (
            "unknown field",
            with_fixture(&line, |v| v["fields"]["employes"] = 3.into()),
            422,
            "invalid_profile",
        ),
        (
            "wrong type",
            with_fixture(&line, |v| v["fields"]["employees"] = "many".into()),
            422,
            "invalid_profile",
        ),
        (
            "unknown key",
            with_fixture(&line, |v| v["as_of"] = "2025-06-30".into()),
            422,
            "invalid_profile",
        ),
        (
            "bad 统一社会信用代码",
            with_fixture(&line, |v| v["id"] = "91330603MA2BK7R410".into()),
            422,
            "invalid_profile",
        ),
    ];
    for (what, body, status, code) in cases {
        let answer = server.post("/v1/recommend", body.clone()).await;
        let error = answer.error(status, code);
        assert_eq!(error["message"], cli_reason(&catalog, &body), "{what}");
    }
    // A malformed body names the line where it broke.
    let answer = server
        .post("/v1/recommend", "{\n  \"id\": \"x\",\n  oops\n}")
        .await;
    assert_eq!(answer.error(400, "malformed_json")["line"], 3);
    // Not UTF-8.
    server
        .post("/v1/recommend", vec![b'{', 0xff, b'}'])
        .await
        .error(400, "bad_body");
    server.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_bad_requests_are_refused_with_4xx() {
    let server = Server::start(Config {
        limits: Limits {
            max_body_bytes: 4096,
            max_profiles: 3,
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let line = fixture_lines()[0].clone();
    let big = format!("{}{}", line, " ".repeat(5000));
    server
        .post("/v1/recommend", big.clone())
        .await
        .error(413, "body_too_large");
    server
        .post("/v1/match", big)
        .await
        .error(413, "body_too_large");
    let four: Vec<String> = fixture_lines().into_iter().take(4).collect();
    let error = server
        .post("/v1/match", format!("\n{}", four.join("\n")))
        .await
        .error(413, "too_many_profiles");
    assert_eq!(error["line"], 5, "the first profile over the limit");
    assert_eq!(
        error["message"],
        "the body holds 4 profiles, over the limit of 3 per request"
    );
    let bad_date = server
        .post("/v1/recommend?as_of=2025-13-01", line.clone())
        .await;
    assert_eq!(
        bad_date.error(400, "bad_query")["message"],
        "`as_of`: `2025-13-01` is not a date YYYY-MM-DD"
    );
    let unknown = server
        .post("/v1/recommend?asof=2025-06-30", line.clone())
        .await;
    assert!(
        unknown.error(400, "bad_query")["message"]
            .as_str()
            .expect("text")
            .ends_with("did you mean `as_of`?")
    );
    for query in [
        "max_pushes=0",
        "max_pushes=256",
        "max_unlocks=-1",
        "max_pushes=x",
    ] {
        server
            .post(&format!("/v1/recommend?{query}"), line.clone())
            .await
            .error(400, "bad_query");
    }
    server
        .post(
            "/v1/recommend?as_of=2025-06-30&as_of=2025-07-01",
            line.clone(),
        )
        .await
        .error(400, "bad_query");
    server
        .get("/v1/calendar?days=36601")
        .await
        .error(400, "bad_query");
    server.get("/v1/measures?x=1").await.error(400, "bad_query");
    let unknown = server.get("/v1/measures/M17").await;
    assert_eq!(
        unknown.error(404, "unknown_measure")["message"],
        "no measure `M17` in the catalog; did you mean `M017`?"
    );
    server.get("/v2/recommend").await.error(404, "not_found");
    server
        .get("/v1/recommend")
        .await
        .error(405, "method_not_allowed");
    server
        .post("/health", "")
        .await
        .error(405, "method_not_allowed");
    server.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_its_time_is_answered_503() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = Server::start(Config {
        limits: Limits {
            request_timeout: Duration::from_millis(200),
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    // A body announced and never sent: the request is still running at its deadline,
    // whatever the machine's speed.
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connects");
    stream
        .write_all(b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        .await
        .expect("a head and a byte");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered within 10 s")
        .expect("read");
    let answer = String::from_utf8(answer).expect("UTF-8");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1\r\n"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    server.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_request_head_is_closed() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = Server::start(Config {
        limits: Limits {
            header_timeout: Duration::from_millis(300),
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connects");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a head");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection is still open after 5 s");
    // The server answers others meanwhile, and stops at once with nothing in flight.
    assert_eq!(server.get("/health").await.status, 200);
    server.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_views_are_the_librarys() {
    let server = Server::start(Config::default()).await;
    let catalog = server.service.catalog();
    let hash = catalog.hash();

    let health = server.get("/health").await.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["catalog_hash"], hash);
    assert_eq!(health["measures"], catalog.measures.len());

    let measures = server.get("/v1/measures").await.json();
    assert_eq!(measures["catalog_hash"], hash);
    assert_eq!(
        measures["measures"],
        serde_json::to_value(views::list(&catalog)).expect("JSON")
    );
    let one = server.get("/v1/measures/M017").await.json();
    assert_eq!(one["measure"], measures["measures"][16]);
    assert_eq!(one["measure"]["id"], "M017");
    for key in [
        "zone",
        "window",
        "nature",
        "valid_from",
        "valid_until",
        "title",
    ] {
        assert!(
            one["measure"].get(key).is_some()
                || measures["measures"]
                    .as_array()
                    .expect("list")
                    .iter()
                    .any(|m| m.get(key).is_some()),
            "`{key}` is in the metadata"
        );
    }

    let calendar = server
        .get("/v1/calendar?from=2023-01-01&days=2000")
        .await
        .json();
    let from = jiff::civil::date(2023, 1, 1);
    assert_eq!(calendar["from"], "2023-01-01");
    assert_eq!(calendar["days"], 2000);
    let entries = views::calendar(&catalog, from, 2000);
    assert!(entries.len() >= 4, "the catalog has windows in 2023–2027");
    assert_eq!(
        calendar["entries"],
        serde_json::to_value(entries).expect("JSON")
    );
    let default = server.get("/v1/calendar").await.json();
    assert_eq!(default["from"], TODAY.to_string());
    assert_eq!(default["days"], 30);

    let metrics = server.get("/metrics").await;
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .expect("text")
            .starts_with("application/openmetrics-text")
    );
    for want in [
        format!("policy_match_catalog_info{{hash=\"{hash}\"}} 1"),
        format!("policy_match_catalog_measures {}", catalog.measures.len()),
        "policy_match_catalog_loaded_timestamp_seconds 1751212800.0".to_owned(),
        "policy_match_http_requests_total{route=\"/v1/measures/{id}\",status=\"200\"} 1".to_owned(),
        "policy_match_http_request_duration_seconds_count{route=\"/health\"} 1".to_owned(),
    ] {
        assert!(
            metrics.text.contains(&want),
            "`{want}` in\n{}",
            metrics.text
        );
    }
    server.stop().await.expect("stopped");
}

/// M017's threshold lowered: the fixture enterprise at 0.41 is no longer eligible.
fn stricter(m017: &str) -> String {
    let changed = m017.replace(
        "expr = \"energy_intensity < 0.52\"",
        "expr = \"energy_intensity < 0.40\"",
    );
    assert_ne!(changed, m017, "M017 has the expression");
    changed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_swaps_a_good_catalog_and_refuses_a_bad_one() {
    let (_dir, rules) = support::rules_copy();
    let off = Server::start(Config {
        rules: Some(rules.clone()),
        ..Config::default()
    })
    .await;
    off.post("/v1/reload", "")
        .await
        .error(403, "reload_disabled");
    off.stop().await.expect("stopped");

    let builtin = Server::start(Config {
        admin_token: Some(TOKEN.into()),
        ..Config::default()
    })
    .await;
    let bearer = format!("Bearer {TOKEN}");
    builtin
        .send("POST", "/v1/reload", &[("authorization", &bearer)], "")
        .await
        .error(409, "reload_unavailable");
    builtin.stop().await.expect("stopped");

    let server = Server::start(Config {
        rules: Some(rules.clone()),
        admin_token: Some(TOKEN.into()),
        ..Config::default()
    })
    .await;
    let first = server.service.catalog().hash().to_owned();
    server
        .post("/v1/reload", "")
        .await
        .error(401, "unauthorized");
    server
        .send(
            "POST",
            "/v1/reload",
            &[("authorization", "Bearer wrong-token-0123456789")],
            "",
        )
        .await
        .error(401, "unauthorized");

    let m017 = std::fs::read_to_string(rules.join("measures/M017.toml")).expect("M017");
    support::replace(&rules, "measures/M017.toml", &stricter(&m017));
    let reloaded = server
        .send("POST", "/v1/reload", &[("authorization", &bearer)], "")
        .await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.text);
    let reloaded = reloaded.json();
    assert_eq!(reloaded["previous_hash"], first);
    let second = reloaded["catalog_hash"]
        .as_str()
        .expect("a hash")
        .to_owned();
    assert_ne!(second, first);
    assert_eq!(server.get("/health").await.json()["catalog_hash"], second);

    // A broken rule file: refused with every diagnostic, the second catalog serving on.
    support::replace(
        &rules,
        "measures/M017.toml",
        &m017.replace("energy_intensity < 0.52", "energy_intensty < 0.52"),
    );
    let refused = server
        .send("POST", "/v1/reload", &[("authorization", &bearer)], "")
        .await;
    let error = refused.error(422, "catalog_invalid");
    let message = error["message"].as_str().expect("text");
    assert!(
        message.contains(&format!("the catalog {second} keeps serving")),
        "{message}"
    );
    let diagnostics = error["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diagnostics.iter().any(|d| d["file"] == "measures/M017.toml"
            && d["message"]
                .as_str()
                .is_some_and(|m| m.contains("energy_intensty"))),
        "{diagnostics:?}"
    );
    assert_eq!(server.get("/health").await.json()["catalog_hash"], second);

    let metrics = server.get("/metrics").await.text;
    for want in [
        "policy_match_reloads_total{trigger=\"http\",result=\"ok\"} 1",
        "policy_match_reloads_total{trigger=\"http\",result=\"rejected\"} 1",
        &format!("policy_match_catalog_info{{hash=\"{second}\"}} 1"),
    ] {
        assert!(metrics.contains(want), "`{want}` in\n{metrics}");
    }
    assert!(
        !metrics.contains(&first),
        "the old hash is gone from the metrics"
    );
    server.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_reloads_every_answer_is_one_catalogs() {
    let (_dir, rules) = support::rules_copy();
    let m017 = std::fs::read_to_string(rules.join("measures/M017.toml")).expect("M017");
    let versions = [m017.clone(), stricter(&m017)];
    // The library's answers for each version, by catalog hash.
    let lines = fixture_lines();
    let mut expected: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for text in &versions {
        support::replace(&rules, "measures/M017.toml", text);
        let catalog = Catalog::load_dir(&rules).expect("loads");
        let answers = lines
            .iter()
            .map(|l| library_answer(&catalog, l, TODAY))
            .collect();
        expected.insert(catalog.hash().to_owned(), answers);
    }
    assert_eq!(expected.len(), 2);
    let mut answers = expected.values();
    let (a, b) = (answers.next().expect("two"), answers.next().expect("two"));
    let differ = a.iter().zip(b).any(|(x, y)| x["results"] != y["results"]);
    assert!(differ, "the two catalogs answer some fixture differently");

    support::replace(&rules, "measures/M017.toml", &versions[0]);
    let server = std::sync::Arc::new(
        Server::start(Config {
            rules: Some(rules.clone()),
            admin_token: Some(TOKEN.into()),
            ..Config::default()
        })
        .await,
    );
    let expected = std::sync::Arc::new(expected);
    let mut clients = Vec::new();
    for c in 0..4 {
        let (server, expected, lines) = (server.clone(), expected.clone(), lines.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = BTreeMap::<String, usize>::new();
            for n in 0..60 {
                let i = (c + n) % lines.len();
                let answer = server.post("/v1/recommend", lines[i].clone()).await;
                assert_eq!(answer.status, 200, "{}", answer.text);
                let json = answer.json();
                let hash = json["catalog_hash"].as_str().expect("a hash").to_owned();
                let want = &expected
                    .get(&hash)
                    .unwrap_or_else(|| panic!("unknown hash {hash}"))[i];
                assert_eq!(&json, want, "enterprise {i} under catalog {hash}");
                *seen.entry(hash).or_default() += 1;
            }
            seen
        }));
    }
    let bearer = format!("Bearer {TOKEN}");
    for round in 1..=10 {
        support::replace(&rules, "measures/M017.toml", &versions[round % 2]);
        let answer = server
            .send("POST", "/v1/reload", &[("authorization", &bearer)], "")
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut seen = BTreeMap::<String, usize>::new();
    for client in clients {
        for (hash, n) in client.await.expect("a client") {
            *seen.entry(hash).or_default() += n;
        }
    }
    assert_eq!(seen.values().sum::<usize>(), 240);
    let metrics = server.get("/metrics").await.text;
    assert!(
        metrics.contains("policy_match_reloads_total{trigger=\"http\",result=\"ok\"} 10"),
        "{metrics}"
    );
    match std::sync::Arc::try_unwrap(server) {
        Ok(server) => server.stop().await.expect("stopped"),
        Err(_) => unreachable!("every client is done"),
    }
}
