//! What publishing a lifecycle event costs the reconcile that does it, and how fast a real
//! nats-server takes them: prints a Markdown table (see BENCHMARKS.md).
//!
//! 1. `publish` calls with NATS unreachable (every event stays queued): the cost a reconcile pays,
//!    p50 / p99 / max over 100 000 calls.
//! 2. 10 000 events to a real nats-server with JetStream (file store, every event acked before
//!    the next is sent): events per second from the first publish until the last ack.
//!
//! Needs `nats-server` from `hack/build-tools.sh` (`$DYNAMO_TOOLS_BIN`); fails without it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dynamo_events::{LifecycleEvent, Publisher, PublisherOptions, Transition};

const CALLS: usize = 100_000;
const DELIVERED: u64 = 10_000;

fn nats_server() -> PathBuf {
    let dir = std::env::var_os("DYNAMO_TOOLS_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/dynamo-operator/tools/bin"))
        })
        .unwrap_or_default();
    let binary = dir.join("nats-server");
    if !binary.is_file() {
        eprintln!(
            "no nats-server at {}: run hack/build-tools.sh and export DYNAMO_TOOLS_BIN",
            binary.display()
        );
        std::process::exit(1);
    }
    binary
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(14222)
}

fn event(i: usize) -> LifecycleEvent {
    LifecycleEvent::new(Transition::Ready, "inference", format!("graph-{}", i % 100))
        .with_generation(3)
        .with_reason("all_resources_are_ready")
        .with_message("All resources are ready")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // 1. The cost of `publish` to a reconcile.
    let unreachable = format!("nats://127.0.0.1:{}", free_port());
    let publisher =
        match Publisher::start(&unreachable, PublisherOptions::default().buffer(CALLS + 1)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cannot start a publisher: {e}");
                std::process::exit(1);
            }
        };
    let mut times = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let event = event(i);
        let start = Instant::now();
        publisher.publish(event);
        times.push(start.elapsed());
    }
    times.sort();
    println!("| measure | value |\n|---|---|");
    println!(
        "| `publish` (NATS down, {CALLS} calls) p50 / p99 / max | {:.2} µs / {:.2} µs / {:.0} µs |",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1e6),
    );
    println!("| queued while down | {} |", publisher.stats().queued);
    drop(publisher);

    // 2. Delivery to a real nats-server.
    let store = std::env::temp_dir().join(format!("dynamo-events-bench-{}", std::process::id()));
    let port = free_port();
    let mut server = match Command::new(nats_server())
        .arg("-js")
        .arg("-sd")
        .arg(&store)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot start nats-server: {e}");
            std::process::exit(1);
        }
    };
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
        if Instant::now() > deadline {
            eprintln!("nats-server did not listen on {address}");
            let _ = server.kill();
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("nats://{address}");
    let publisher = match Publisher::start(
        &url,
        PublisherOptions::default().buffer(DELIVERED as usize + 1),
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot start a publisher: {e}");
            let _ = server.kill();
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    for i in 0..DELIVERED as usize {
        publisher.publish(event(i));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while publisher.stats().published < DELIVERED && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed();
    let stats = publisher.stats();
    println!(
        "| {DELIVERED} events to nats-server (JetStream, file store, acked one by one) | {:.1} s, {:.0} events/s ({} published, {} dropped) |",
        elapsed.as_secs_f64(),
        stats.published as f64 / elapsed.as_secs_f64(),
        stats.published,
        stats.dropped
    );
    drop(publisher);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&store);
}
