//! Graph lifecycle events on a real nats-server (JetStream): they arrive in order, and a NATS
//! outage neither stops reconciling nor loses the events queued meanwhile.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use dynamo_api::DynamoGraphDeployment;
use dynamo_events::{LifecycleEvent, Publisher, PublisherOptions, STREAM, Transition};
use dynamo_test_harness::ControlPlane;
use kube::api::{Api, DeleteParams};
use serde_json::json;

use crate::common::{self, Operator};

/// A nats-server with JetStream on a fixed port and store, so it can be killed and started
/// again as the same server.
struct Nats {
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl Nats {
    fn new(cp: &ControlPlane) -> Result<Self> {
        let binary = cp.bin("nats-server")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        Ok(Self {
            binary,
            port,
            store: tempfile::tempdir()?,
            child: None,
        })
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) -> Result<()> {
        let child = Command::new(&self.binary)
            .arg("-js")
            .arg("-sd")
            .arg(self.store.path())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
            ensure!(
                Instant::now() < deadline,
                "nats-server does not listen on {address}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// The events of graph `graph` in the stream, in stream order.
async fn events(url: &str, graph: &str) -> Result<Vec<LifecycleEvent>> {
    let client = async_nats::connect(url).await?;
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream.get_stream(STREAM).await?;
    let state = stream.info().await?.state.clone();
    let mut found = Vec::new();
    if state.messages == 0 {
        return Ok(found);
    }
    for sequence in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(sequence).await?;
        let event: LifecycleEvent = serde_json::from_slice(&message.payload)?;
        if event.graph == graph {
            found.push(event);
        }
    }
    Ok(found)
}

fn transitions(events: &[LifecycleEvent]) -> Vec<Transition> {
    events.iter().map(|e| e.transition).collect()
}

/// Waits until the stream holds `expected` for `graph`.
async fn expect_events(url: &str, graph: &str, expected: &[Transition]) -> Result<()> {
    let mut last = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(found) = events(url, graph).await {
            last = transitions(&found);
            if last == expected {
                return Ok(());
            }
            ensure!(
                expected.starts_with(&last),
                "events out of order: {last:?}, expected {expected:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("the stream holds {last:?}, expected {expected:?}")
}

#[tokio::test]
async fn lifecycle_events_arrive_in_order_and_survive_a_nats_outage() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let mut nats = Nats::new(cp)?;
    nats.start()?;
    let url = nats.url();
    let (client, ns) = cp.namespace("events").await?;
    let publisher = Publisher::start(&url, PublisherOptions::default())?;
    let operator = Operator::start_publishing(
        cp,
        &ns,
        common::registry(None),
        common::render_config(),
        Some(publisher.clone()),
    )
    .await?;
    common::apply_yaml(&client, &ns, &common::small_graph("evented", "1")).await?;
    common::wait_ready(
        &client,
        &ns,
        "evented",
        "True",
        None,
        Duration::from_secs(120),
    )
    .await?;
    expect_events(&url, "evented", &[Transition::Created, Transition::Ready]).await?;
    let first = events(&url, "evented").await?;
    ensure!(
        first[0].namespace == ns && first[0].uid.is_some() && first[0].generation == Some(1),
        "event fields: {:?}",
        first[0]
    );
    ensure!(
        first[1].reason.as_deref() == Some("all_resources_are_ready"),
        "{:?}",
        first[1]
    );

    // NATS crashes; the graph changes and keeps being reconciled meanwhile.
    nats.kill()?;
    common::patch_alpha_graph(
        &client,
        &ns,
        "evented",
        &json!({"spec": {"services": {"worker": {"extraPodSpec": {
            "mainContainer": {"image": "registry.example.com/dynamo:2"}}}}}}),
    )
    .await?;
    common::wait_for("the rollout to start", Duration::from_secs(60), || {
        let client = client.clone();
        let ns = ns.clone();
        async move {
            let ready = common::ready(&client, &ns, "evented").await?;
            Ok(ready.filter(|c| c.reason == "updating"))
        }
    })
    .await?;
    common::wait_for(
        "the rollout to finish with NATS down",
        Duration::from_secs(120),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let graph = common::graph(&client, &ns, "evented").await?;
                let status = graph.status.unwrap_or_default();
                let ready = status
                    .conditions
                    .unwrap_or_default()
                    .into_iter()
                    .find(|c| c.type_ == "Ready");
                Ok(ready.filter(|c| {
                    c.status == "True" && c.observed_generation == graph.metadata.generation
                }))
            }
        },
    )
    .await?;
    let stats = publisher.stats();
    ensure!(
        stats.queued >= 2,
        "the transitions made while NATS was down wait in the queue: {stats:?}"
    );

    // NATS comes back as the same server: the queued events follow the earlier ones, in order.
    nats.start()?;
    let mut expected = vec![
        Transition::Created,
        Transition::Ready,
        Transition::Updating,
        Transition::Ready,
    ];
    expect_events(&url, "evented", &expected).await?;

    Api::<DynamoGraphDeployment>::namespaced(client.clone(), &ns)
        .delete("evented", &DeleteParams::default())
        .await?;
    expected.push(Transition::Deleted);
    expect_events(&url, "evented", &expected).await?;
    // Sequences of one publisher increase along the stream.
    let all = events(&url, "evented").await?;
    ensure!(
        all.windows(2).all(|w| w[0].sequence < w[1].sequence),
        "sequences {:?}",
        all.iter().map(|e| e.sequence).collect::<Vec<_>>()
    );
    ensure!(publisher.stats().dropped == 0, "{:?}", publisher.stats());
    operator.stop().await?;
    Ok(())
}
