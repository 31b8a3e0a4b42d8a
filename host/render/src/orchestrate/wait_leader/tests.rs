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
    let mut command = Command::new("python3");
    command
        .arg(&path)
        .env_remove("LEADER_HOST")
        .env_remove("LEADER_PORT");
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
