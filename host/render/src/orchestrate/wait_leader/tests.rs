//! Runs the wait-for-leader script with the local `python3` (the test fails, naming it, when
//! there is none).

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::SCRIPT;

/// Runs the script with `env`.
fn run(env: &[(&str, &str)]) -> Option<Output> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wait-for-leader.py");
    std::fs::write(&path, SCRIPT).expect("writes");
    // No service account (an empty folder) and no delay unless a test says otherwise.
    let account = dir.path().join("account");
    std::fs::create_dir(&account).expect("account dir");
    let mut command = Command::new("python3");
    command
        .arg(&path)
        .env_remove("LEADER_HOST")
        .env_remove("LEADER_PORT")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_API_URL")
        .env("INITIAL_DELAY_SECONDS", "0")
        .env("SERVICE_ACCOUNT_DIR", &account);
    command.envs(env.iter().copied());
    Some(
        command
            .output()
            .unwrap_or_else(|e| panic!("these tests need `python3` on PATH: {e}")),
    )
}

#[test]
fn exits_zero_once_the_leader_listens() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = listener.local_addr().expect("addr").port().to_string();
    let Some(out) = run(&[("LEADER_HOST", "localhost"), ("LEADER_PORT", &port)]) else {
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is reachable"));
}

/// A fake API server answering pod reads with `answers` in turn (the last one repeats), and a
/// service account folder pointing at it. Returns (API URL, account dir, requests seen).
fn fake_api(
    answers: Vec<(u16, &'static str)>,
) -> (
    String,
    tempfile::TempDir,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut answers = answers.into_iter().peekable();
        let mut last = (500, "");
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                request.push_str(&line);
                line.clear();
            }
            log.lock().expect("log").push(request);
            if let Some(next) = answers.next() {
                last = next;
            }
            let (code, body) = last;
            let _ = write!(
                &stream,
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let account = tempfile::tempdir().expect("tempdir");
    std::fs::write(account.path().join("token"), "secret-token").expect("token");
    std::fs::write(account.path().join("namespace"), "team-a").expect("namespace");
    (url, account, seen)
}

#[test]
fn waits_for_the_leader_pod_to_run_asking_the_api_as_the_pod() {
    let (url, account, seen) = fake_api(vec![
        (404, "{}"),
        (200, r#"{"status": {"phase": "Pending"}}"#),
        (
            200,
            r#"{"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Running"}}"#,
        ),
        (200, r#"{"status": {"phase": "Running"}}"#),
    ]);
    let account_dir = account.path().to_string_lossy().into_owned();
    let Some(out) = run(&[
        ("LEADER_HOST", "graph-decode-0.graph-decode.team-a"),
        // Nothing listens here: only the API can say the leader is up.
        ("LEADER_PORT", "1"),
        ("KUBERNETES_API_URL", &url),
        ("SERVICE_ACCOUNT_DIR", &account_dir),
        ("WAIT_TIMEOUT_SECONDS", "60"),
    ]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("pod graph-decode-0 is Running"), "{stdout}");
    let requests = seen.lock().expect("log").clone();
    assert_eq!(requests.len(), 4, "one read per state: {requests:?}");
    assert!(
        requests[0].starts_with("GET /api/v1/namespaces/team-a/pods/graph-decode-0 ")
            && requests[0].contains("Authorization: Bearer secret-token"),
        "{}",
        requests[0]
    );
}

#[test]
fn falls_back_to_the_leader_port_when_the_api_refuses() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = listener.local_addr().expect("addr").port().to_string();
    let (url, account, _) = fake_api(vec![(403, "{}")]);
    let account_dir = account.path().to_string_lossy().into_owned();
    let Some(out) = run(&[
        ("LEADER_HOST", "localhost"),
        ("LEADER_PORT", &port),
        ("KUBERNETES_API_URL", &url),
        ("SERVICE_ACCOUNT_DIR", &account_dir),
        ("WAIT_TIMEOUT_SECONDS", "30"),
    ]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("the API answered 403") && stdout.contains("is reachable"),
        "{stdout}"
    );
}

#[test]
fn gives_up_after_the_timeout() {
    // A port nothing listens on: bind, read the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("addr")
        .port()
        .to_string();
    let start = Instant::now();
    let Some(out) = run(&[
        ("LEADER_HOST", "127.0.0.1"),
        ("LEADER_PORT", &port),
        ("WAIT_TIMEOUT_SECONDS", "1"),
    ]) else {
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("giving up"));
    assert!(start.elapsed() < Duration::from_secs(30));

    let Some(out) = run(&[
        ("LEADER_HOST", "no-such-host.invalid"),
        ("LEADER_PORT", &port),
        ("WAIT_TIMEOUT_SECONDS", "1"),
    ]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot resolve"));
}

#[test]
fn rejects_bad_settings() {
    for env in [
        &[("LEADER_PORT", "29500")][..],
        &[("LEADER_HOST", "h"), ("LEADER_PORT", "http")],
        &[("LEADER_HOST", "h"), ("LEADER_PORT", "70000")],
        &[
            ("LEADER_HOST", "h"),
            ("LEADER_PORT", "1"),
            ("WAIT_TIMEOUT_SECONDS", "soon"),
        ],
    ] {
        let Some(out) = run(env) else { return };
        assert_eq!(out.status.code(), Some(2), "{env:?}");
    }
}
