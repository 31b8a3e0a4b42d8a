//! A real `nats-server` with JetStream for the tests, and readers of what reached the stream.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dynamo_events::{LifecycleEvent, Publisher, STREAM, Stats};

/// A boxed error, so that tests can use `?` on every client call.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The `nats-server` built by `hack/build-tools.sh`: in `$DYNAMO_TOOLS_BIN`, else in
/// `$DYNAMO_TOOLS_CACHE/bin`, else in `${XDG_CACHE_HOME:-$HOME/.cache}/dynamo-operator/tools/bin`.
///
/// A missing binary fails the test, telling how to build it; these tests never skip.
pub fn nats_server_binary() -> PathBuf {
    let dir = std::env::var_os("DYNAMO_TOOLS_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("DYNAMO_TOOLS_CACHE").map(|cache| PathBuf::from(cache).join("bin"))
        })
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
                .map(|cache| cache.join("dynamo-operator").join("tools").join("bin"))
        })
        .unwrap_or_default();
    let binary = dir.join("nats-server");
    assert!(
        binary.is_file(),
        "no nats-server at {}: run `hack/build-tools.sh` and export the directory it prints as \
         DYNAMO_TOOLS_BIN (these tests need a real NATS server and are never skipped)",
        binary.display()
    );
    binary
}

/// A free TCP port on 127.0.0.1 (free when asked; the server binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("no free local port")
}

/// The working directory of one test: the JetStream store and the server logs.
pub struct Workdir {
    dir: tempfile::TempDir,
    port: u16,
    starts: usize,
}

impl Workdir {
    /// A new directory and a free port for the server of one test.
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("cannot create a temporary directory"),
            port: free_port(),
            starts: 0,
        }
    }

    /// The URL clients connect to, valid before the server runs.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts `nats-server -js` on this directory's port and store, and waits until it accepts
    /// connections; restarting on the same store keeps the stream.
    pub fn start(&mut self) -> NatsServer {
        self.starts += 1;
        let store = self.dir.path().join("store");
        let log = self
            .dir
            .path()
            .join(format!("nats-server-{}.log", self.starts));
        NatsServer::start(self.port, &store, &log)
    }
}

/// A running `nats-server`, killed when dropped.
pub struct NatsServer {
    child: Child,
    log: PathBuf,
}

impl NatsServer {
    fn start(port: u16, store: &Path, log: &Path) -> NatsServer {
        let output = File::create(log).expect("cannot create the nats-server log");
        let errors = output
            .try_clone()
            .expect("cannot share the nats-server log");
        let child = Command::new(nats_server_binary())
            .arg("-js")
            .arg("-sd")
            .arg(store)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .expect("cannot start nats-server");
        let mut server = NatsServer {
            child,
            log: log.to_path_buf(),
        };
        // Ready when it says so and accepts connections: a port taken by another process would
        // accept too, but this server would exit saying so.
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.log().contains("Server is ready")
            || TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err()
        {
            server.assert_running();
            assert!(
                Instant::now() < deadline,
                "nats-server did not accept connections on {address} within 10 s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.assert_running();
        server
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails if the server exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("nats-server exited with {status}:\n{}", self.log());
        }
    }

    /// Freezes the server with SIGSTOP and waits until every one of its threads has stopped.
    ///
    /// The kernel stops the threads of a process one after the other, each as it next runs, so
    /// `kill` returning does not mean the server has stopped serving yet.
    pub fn freeze(&mut self) {
        self.signal("STOP");
        let tasks = PathBuf::from(format!("/proc/{}/task", self.child.id()));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let states: Vec<char> = std::fs::read_dir(&tasks)
                .map(|entries| {
                    entries
                        .flatten()
                        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
                        .filter_map(|stat| {
                            let (_, after_name) = stat.rsplit_once(')')?;
                            after_name.trim_start().chars().next()
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !states.is_empty() && states.iter().all(|state| *state == 'T') {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not stop within 5 s: thread states {states:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Lets a [frozen](Self::freeze) server run again with SIGCONT.
    pub fn thaw(&mut self) {
        self.signal("CONT");
    }

    /// Sends `signal` (`STOP`, `CONT`, …) to the server with the `kill` command.
    fn signal(&mut self, signal: &str) {
        self.assert_running();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("cannot run `kill`");
        assert!(status.success(), "kill -{signal} failed: {status}");
    }

    /// Kills the server with SIGKILL, as a crash would, and reaps it.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // `Child::kill` sends SIGKILL on Unix.
        let _already_gone = self.child.kill();
        let _status = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One message of the events stream.
#[derive(Debug)]
pub struct Stored {
    /// Its subject.
    pub subject: String,
    /// Its `Nats-Msg-Id` header.
    pub message_id: Option<String>,
    /// Its payload as JSON.
    pub json: serde_json::Value,
    /// Its payload as an event.
    pub event: LifecycleEvent,
}

/// Every message of [`STREAM`] on the server at `url`, in stream order.
pub async fn read_stream(url: &str) -> TestResult<Vec<Stored>> {
    let client = async_nats::connect(url).await?;
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream.get_stream(STREAM).await?;
    let state = stream.info().await?.state.clone();
    let mut stored = Vec::new();
    if state.messages == 0 {
        return Ok(stored);
    }
    for sequence in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(sequence).await?;
        let json: serde_json::Value = serde_json::from_slice(&message.payload)?;
        stored.push(Stored {
            subject: message.subject.to_string(),
            message_id: message
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(ToString::to_string),
            event: serde_json::from_value(json.clone())?,
            json,
        });
    }
    Ok(stored)
}

/// Waits until `publisher` has published `count` events, failing after `within`.
pub async fn wait_published(publisher: &Publisher, count: u64, within: Duration) -> Stats {
    let deadline = Instant::now() + within;
    loop {
        let stats = publisher.stats();
        if stats.published >= count {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} events published within {within:?}: {stats:?}",
            stats.published
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
