//! Scale benchmark: the operator binary against a real API server with many graphs.
//!
//! Part 1 (basic control plane: etcd and kube-apiserver, no pods) creates `--graphs` graphs, each a
//! frontend with prefill and decode workers on the Deployment pathway, and measures: the time
//! until every graph's children exist and its status is written; the operator's CPU seconds and
//! peak and steady memory beside the API server's CPU over the same time; the requests and
//! writes per graph (from the API server's audit log, by the operator's User-Agent); graph
//! reconcile latency; the writes of a full no-op resync, of an operator restart over unchanged
//! graphs and while idle. Part 2 (full control plane with kwok GPU nodes) creates
//! `--full-graphs` graphs and waits until every one is Ready.
//!
//! ```sh
//! cargo bench -p dynamo-operator --bench scale                        # 1000 + 100 graphs
//! cargo bench -p dynamo-operator --bench scale -- --graphs 200 --full-graphs 0
//! ```
//!
//! Prints a Markdown report; figures go to `BENCHMARKS.md`. Run without `--bench` (as
//! `cargo test --benches` does) it makes a small smoke run.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use clap::Parser;
use dynamo_api::DynamoGraphDeployment;
use dynamo_test_harness::{AuditedRequest, Component, ControlPlane, FakeNodes, Mode};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use tokio::sync::Semaphore;

/// The operator's User-Agent prefix (see `dynamo_controllers::identify`).
const OPERATOR_AGENT: &str = "dynamo-operator/";

/// Workers (Deployments) per graph: frontend, prefill, decode.
const DEPLOYMENTS_PER_GRAPH: usize = 3;

#[derive(Debug, Parser)]
#[command(about = "Scale benchmark of the operator on a real API server")]
struct Args {
    /// Graphs of the basic run (no pods); 0 skips it.
    #[arg(long, default_value_t = 1000)]
    graphs: usize,
    /// Graphs of the full run (kwok GPU nodes, pods scheduled) waited for until Ready; 0 skips it.
    #[arg(long, default_value_t = 100)]
    full_graphs: usize,
    /// How long the idle phase watches for writes.
    #[arg(long, default_value_t = 60)]
    idle_seconds: u64,
    /// Graphs created at once.
    #[arg(long, default_value_t = 32)]
    create_concurrency: usize,
    /// Set by `cargo bench`; without it (as under `cargo test --benches`) a small smoke run.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    if !args.bench {
        args.graphs = args.graphs.min(5);
        args.full_graphs = args.full_graphs.min(2);
        args.idle_seconds = args.idle_seconds.min(3);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!("# Operator scale benchmark\n");
        println!("{}\n", machine());
        if args.graphs > 0 {
            basic_run(&args).await.context("basic run")?;
        }
        if args.full_graphs > 0 {
            full_run(&args).await.context("full run")?;
        }
        Ok(())
    })
}

// === Basic run ===

async fn basic_run(args: &Args) -> Result<()> {
    let n = args.graphs;
    let cp = ControlPlane::start(Mode::Basic).await?;
    let (client, ns) = cp.namespace("scale").await?;
    let api_server = Proc::of(&cp, Component::ApiServer)?;
    let etcd = Proc::of(&cp, Component::Etcd)?;
    let mut operator = OperatorProcess::start(&cp, &ns, "operator-1")?;
    operator.wait_synced(Duration::from_secs(60))?;

    println!("## {n} graphs, no pods (etcd + kube-apiserver)\n");
    let before = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    let started = Instant::now();
    create_graphs(&client, &ns, n, args.create_concurrency).await?;
    let created = started.elapsed();
    wait_converged(&client, &ns, n, Duration::from_secs(1800)).await?;
    let converged = started.elapsed();
    let peak_during = operator.proc.peak_rss()?;
    wait_quiet(&cp, Duration::from_secs(5), Duration::from_secs(300)).await?;
    let after = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    let latencies = operator.graph_reconciles()?;

    let phase = after.since(&before);
    let writes = phase.writes();
    let events = writes.iter().filter(|w| w.resource == "events").count();
    let table = [
        (
            "graphs created (by the benchmark)",
            format!("{:.1} s", created.as_secs_f64()),
        ),
        (
            "every graph's children exist and status written",
            format!("**{:.1} s**", converged.as_secs_f64()),
        ),
        ("operator CPU", format!("{:.1} s", phase.operator_cpu)),
        (
            "kube-apiserver CPU (same span)",
            format!("{:.1} s", phase.api_server_cpu),
        ),
        ("etcd CPU (same span)", format!("{:.1} s", phase.etcd_cpu)),
        (
            "operator CPU / kube-apiserver CPU",
            format!(
                "**{:.1} %**",
                100.0 * phase.operator_cpu / phase.api_server_cpu.max(1e-9)
            ),
        ),
        (
            "operator peak RSS (VmHWM)",
            format!("**{}**", mib(peak_during)),
        ),
        ("operator RSS once converged", mib(after.operator_rss)),
        (
            "API requests per graph (all verbs)",
            format!("{:.1}", phase.requests.len() as f64 / n as f64),
        ),
        (
            "writes per graph",
            format!("**{:.1}**", writes.len() as f64 / n as f64),
        ),
        (
            "  of which Events",
            format!("{:.1}", events as f64 / n as f64),
        ),
        ("graph reconciles", latencies.len().to_string()),
        ("graph reconcile latency p50 / p99", p50_p99(&latencies)),
    ];
    print_table(&table);
    println!("\nWrites by resource:\n");
    print_table(&by_resource(&writes));
    println!("\nReads by verb:\n");
    let reads: Vec<AuditedRequest> = phase
        .requests
        .iter()
        .filter(|r| !r.is_write())
        .cloned()
        .collect();
    if reads.is_empty() {
        println!("none: the operator reads only through the watches it opened before the run");
    } else {
        print_table(&by_verb(&reads));
    }

    // A full no-op resync: every graph reconciled, nothing changed.
    let before = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    let reconciles_before = operator.graph_reconciles()?.len();
    touch_graphs(&client, &ns, n, args.create_concurrency).await?;
    operator.wait_reconciles(reconciles_before + n, Duration::from_secs(600))?;
    wait_quiet(&cp, Duration::from_secs(5), Duration::from_secs(300)).await?;
    let resync = Snapshot::take(&cp, &operator, &api_server, &etcd)?.since(&before);
    let resync_latencies: Vec<u64> = operator.graph_reconciles()?[reconciles_before..].to_vec();

    // Idle.
    let before = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let idle = Snapshot::take(&cp, &operator, &api_server, &etcd)?.since(&before);

    // Restart over unchanged graphs.
    let before = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    operator.stop()?;
    let restarted_at = Instant::now();
    let mut operator = OperatorProcess::start(&cp, &ns, "operator-2")?;
    operator.wait_synced(Duration::from_secs(120))?;
    operator.wait_reconciles(n, Duration::from_secs(600))?;
    let resynced = restarted_at.elapsed();
    wait_quiet(&cp, Duration::from_secs(5), Duration::from_secs(300)).await?;
    let after = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    let restart = after.since(&before);

    println!("\nAfter convergence:\n");
    let table = [
        (
            "writes of a full no-op resync (every graph touched)",
            format!("**{}**", resync.writes().len()),
        ),
        (
            "  resync reconcile latency p50 / p99",
            p50_p99(&resync_latencies),
        ),
        (
            &*format!("writes while idle for {} s", args.idle_seconds),
            format!("**{}**", idle.writes().len()),
        ),
        (
            "  operator CPU while idle",
            format!("{:.2} s", idle.operator_cpu),
        ),
        (
            "writes after an operator restart",
            format!("**{}**", restart.writes().len()),
        ),
        (
            "  restart until every graph reconciled",
            format!("{:.1} s", resynced.as_secs_f64()),
        ),
        (
            "  requests of the restarted operator",
            restart.requests.len().to_string(),
        ),
        (
            "  restarted operator: peak / steady RSS",
            format!(
                "{} / {}",
                mib(operator.proc.peak_rss()?),
                mib(after.operator_rss)
            ),
        ),
    ];
    print_table(&table);
    for (what, phase) in [("resync", &resync), ("idle", &idle), ("restart", &restart)] {
        let writes = phase.writes();
        if !writes.is_empty() {
            println!("\nUnexpected writes ({what}):\n");
            print_table(&by_resource(&writes));
        }
    }
    operator.stop()?;
    Ok(())
}

// === Full run ===

async fn full_run(args: &Args) -> Result<()> {
    let n = args.full_graphs;
    // Two GPUs per graph (prefill and decode), 8 per node, with room to spare.
    let nodes = (2 * n).div_ceil(8) + 1;
    let fake = FakeNodes::new()
        .count(nodes)
        .gpus_per_node(8)
        .cpu("512")
        .memory("4Ti")
        .pods(110);
    let cp = ControlPlane::start(Mode::Full(fake)).await?;
    let (client, ns) = cp.namespace("scale-full").await?;
    let api_server = Proc::of(&cp, Component::ApiServer)?;
    let etcd = Proc::of(&cp, Component::Etcd)?;
    let operator = OperatorProcess::start(&cp, &ns, "operator-full")?;
    operator.wait_synced(Duration::from_secs(60))?;

    println!(
        "\n## {n} graphs until Ready (kwok: {nodes} nodes × 8 GPUs, controller-manager, scheduler)\n"
    );
    let before = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    let started = Instant::now();
    create_graphs(&client, &ns, n, args.create_concurrency).await?;
    wait_ready(&client, &ns, n, Duration::from_secs(1800)).await?;
    let ready = started.elapsed();
    wait_quiet(&cp, Duration::from_secs(5), Duration::from_secs(300)).await?;
    let after = Snapshot::take(&cp, &operator, &api_server, &etcd)?;
    let phase = after.since(&before);
    let writes = phase.writes();
    let events = writes.iter().filter(|w| w.resource == "events").count();
    let latencies = operator.graph_reconciles()?;
    let table = [
        (
            "every graph Ready",
            format!("**{:.1} s**", ready.as_secs_f64()),
        ),
        ("operator CPU", format!("{:.1} s", phase.operator_cpu)),
        (
            "kube-apiserver CPU (same span)",
            format!("{:.1} s", phase.api_server_cpu),
        ),
        (
            "operator peak / steady RSS",
            format!(
                "{} / {}",
                mib(operator.proc.peak_rss()?),
                mib(after.operator_rss)
            ),
        ),
        (
            "writes per graph",
            format!("{:.1}", writes.len() as f64 / n as f64),
        ),
        (
            "  of which Events",
            format!("{:.1}", events as f64 / n as f64),
        ),
        (
            "graph reconciles per graph",
            format!("{:.1}", latencies.len() as f64 / n as f64),
        ),
        ("graph reconcile latency p50 / p99", p50_p99(&latencies)),
    ];
    print_table(&table);
    println!("\nWrites by resource:\n");
    print_table(&by_resource(&writes));
    Ok(())
}

// === Graphs ===

/// The benchmark graph: Dynamo's `vllm-disagg` example (frontend, decode and prefill workers).
fn graph(index: usize) -> Result<DynamoGraphDeployment> {
    let text = dynamo_fixtures::anchor_example("vllm-disagg").text;
    let mut graph: DynamoGraphDeployment = serde_yaml_ng::from_str(&text)?;
    graph.metadata.name = Some(format!("g-{index:04}"));
    Ok(graph)
}

async fn create_graphs(client: &Client, ns: &str, n: usize, concurrency: usize) -> Result<()> {
    let api: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), ns);
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..n {
        let graph = graph(index)?;
        let api = api.clone();
        let permit = Arc::clone(&limit).acquire_owned().await?;
        tasks.spawn(async move {
            let _permit = permit;
            api.create(&PostParams::default(), &graph).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Adds an annotation to every graph: each is reconciled again, with nothing to change.
async fn touch_graphs(client: &Client, ns: &str, n: usize, concurrency: usize) -> Result<()> {
    let api: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), ns);
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..n {
        let api = api.clone();
        let permit = Arc::clone(&limit).acquire_owned().await?;
        tasks.spawn(async move {
            let _permit = permit;
            let patch = serde_json::json!({"metadata": {"annotations": {"bench.example.com/touched": "1"}}});
            api.patch(&format!("g-{index:04}"), &PatchParams::default(), &Patch::Merge(&patch))
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Waits until all `n` graphs have their status written for their generation and every worker
/// Deployment exists (read from the API server's watch cache, so polling costs little).
async fn wait_converged(client: &Client, ns: &str, n: usize, timeout: Duration) -> Result<()> {
    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), ns);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let cached = ListParams::default().match_any();
    let started = Instant::now();
    loop {
        let observed = graphs
            .list(&cached)
            .await?
            .items
            .iter()
            .filter(|g| {
                g.status.as_ref().is_some_and(|s| {
                    s.observed_generation.is_some()
                        && s.observed_generation == g.metadata.generation
                        && s.conditions.iter().flatten().any(|c| c.type_ == "Ready")
                })
            })
            .count();
        let children = deployments.list_metadata(&cached).await?.items.len();
        if observed == n && children == n * DEPLOYMENTS_PER_GRAPH {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!(
                "not converged after {timeout:?}: {observed}/{n} statuses, {children} Deployments"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until all `n` graphs are `Ready=True`.
async fn wait_ready(client: &Client, ns: &str, n: usize, timeout: Duration) -> Result<()> {
    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), ns);
    let cached = ListParams::default().match_any();
    let started = Instant::now();
    loop {
        let ready = graphs
            .list(&cached)
            .await?
            .items
            .iter()
            .filter(|g| {
                g.status.as_ref().is_some_and(|s| {
                    s.conditions
                        .iter()
                        .flatten()
                        .any(|c| c.type_ == "Ready" && c.status == "True")
                })
            })
            .count();
        if ready == n {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!("{ready}/{n} graphs Ready after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until the operator has made no request for `quiet` (other clients, such as kwok's node
/// heartbeats in full mode, may go on). Reads only what the audit log gained since last time.
async fn wait_quiet(cp: &ControlPlane, quiet: Duration, timeout: Duration) -> Result<()> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let path = cp.audit_log_path();
    let needle = format!("\"userAgent\":\"{OPERATOR_AGENT}");
    let mut file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut offset = file.seek(SeekFrom::End(0))?;
    let mut partial = String::new();
    let started = Instant::now();
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        file.seek(SeekFrom::Start(offset))?;
        let mut fresh = String::new();
        offset += file.read_to_string(&mut fresh)? as u64;
        partial.push_str(&fresh);
        // Only whole lines count; a line being written stays for the next round.
        let complete = partial.rfind('\n').map_or(0, |i| i + 1);
        if partial[..complete].contains(&needle) {
            since = Instant::now();
        }
        partial.drain(..complete);
        if since.elapsed() >= quiet {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!("the operator was still making requests after {timeout:?}");
        }
    }
}

// === Measurements ===

/// What the audit log and the processes say at one moment.
struct Snapshot {
    /// The operator's audited requests so far.
    requests: Vec<AuditedRequest>,
    operator_cpu: f64,
    operator_rss: u64,
    api_server_cpu: f64,
    etcd_cpu: f64,
}

/// The difference of two snapshots.
struct Phase {
    requests: Vec<AuditedRequest>,
    operator_cpu: f64,
    api_server_cpu: f64,
    etcd_cpu: f64,
}

impl Snapshot {
    fn take(
        cp: &ControlPlane,
        operator: &OperatorProcess,
        api_server: &Proc,
        etcd: &Proc,
    ) -> Result<Self> {
        Ok(Self {
            requests: cp.audited_requests(OPERATOR_AGENT)?,
            operator_cpu: operator.proc.cpu_seconds()?,
            operator_rss: operator.proc.rss()?,
            api_server_cpu: api_server.cpu_seconds()?,
            etcd_cpu: etcd.cpu_seconds()?,
        })
    }

    /// What happened between `before` and `self`; the operator may have been restarted, in which
    /// case its CPU counts from its start.
    fn since(&self, before: &Snapshot) -> Phase {
        Phase {
            requests: self
                .requests
                .get(before.requests.len()..)
                .unwrap_or_default()
                .to_vec(),
            operator_cpu: if self.operator_cpu >= before.operator_cpu {
                self.operator_cpu - before.operator_cpu
            } else {
                self.operator_cpu
            },
            api_server_cpu: self.api_server_cpu - before.api_server_cpu,
            etcd_cpu: self.etcd_cpu - before.etcd_cpu,
        }
    }
}

impl Phase {
    fn writes(&self) -> Vec<AuditedRequest> {
        self.requests
            .iter()
            .filter(|r| r.is_write())
            .cloned()
            .collect()
    }
}

/// A process whose CPU time and memory `/proc` reports.
struct Proc {
    pid: u32,
}

impl Proc {
    fn of(cp: &ControlPlane, component: Component) -> Result<Self> {
        let pid = cp
            .pid(component)
            .with_context(|| format!("no pid for {component}"))?;
        Ok(Self { pid })
    }

    /// User plus system CPU seconds so far.
    fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .context("malformed /proc stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| -> Result<f64> {
            Ok(fields.get(i).context("short /proc stat")?.parse::<f64>()?)
        };
        // utime and stime: fields 14 and 15 of stat(5), 11 and 12 after the name.
        Ok((ticks(11)? + ticks(12)?) / clock_ticks())
    }

    fn status_kib(&self, key: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .with_context(|| format!("no {key} in /proc status"))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .context("malformed /proc status")?
            .parse()?)
    }

    fn rss(&self) -> Result<u64> {
        Ok(self.status_kib("VmRSS:")? * 1024)
    }

    fn peak_rss(&self) -> Result<u64> {
        Ok(self.status_kib("VmHWM:")? * 1024)
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

// === The operator process ===

/// The `dynamo-operator run` binary, logging JSON to a file.
struct OperatorProcess {
    child: Child,
    proc: Proc,
    log: PathBuf,
}

impl OperatorProcess {
    fn start(cp: &ControlPlane, ns: &str, name: &str) -> Result<Self> {
        let log = cp.dir().join("logs").join(format!("{name}.log"));
        let file = File::create(&log)?;
        let operator = env!("CARGO_BIN_EXE_dynamo-operator");
        // `DYNAMO_SCALE_WRAPPER="heaptrack -o /tmp/op"` (or `perf record -g -o ...`) profiles the
        // operator under the benchmark; its figures then include the wrapper.
        let mut command = match std::env::var("DYNAMO_SCALE_WRAPPER") {
            Ok(wrapper) if !wrapper.trim().is_empty() => {
                let mut words = wrapper.split_whitespace();
                let mut command = Command::new(words.next().unwrap_or_default());
                command.args(words).arg(operator);
                command
            }
            _ => Command::new(operator),
        };
        let child = command
            .args(["run", "--kubeconfig"])
            .arg(cp.kubeconfig_path())
            .args(["--watch-namespace", ns])
            .env("RUST_LOG", "info,dynamo_controllers=debug,kube=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .context("starting dynamo-operator")?;
        let proc = Proc { pid: child.id() };
        Ok(Self { child, proc, log })
    }

    fn lines(&self) -> Result<Vec<serde_json::Value>> {
        let file = File::open(&self.log)?;
        Ok(BufReader::new(file)
            .lines()
            .map_while(std::result::Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect())
    }

    fn wait_synced(&self, timeout: Duration) -> Result<()> {
        self.wait(timeout, "caches synced", |lines| {
            lines
                .iter()
                .any(|l| l["fields"]["message"] == "caches synced; reconciling")
        })
    }

    /// Waits until the graph controller has logged `count` reconciles.
    fn wait_reconciles(&self, count: usize, timeout: Duration) -> Result<()> {
        self.wait(timeout, &format!("{count} graph reconciles"), |_| {
            self.graph_reconciles().is_ok_and(|r| r.len() >= count)
        })
    }

    fn wait(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Result<()> {
        let started = Instant::now();
        loop {
            if done(&self.lines()?) {
                return Ok(());
            }
            if started.elapsed() > timeout {
                bail!(
                    "the operator did not reach '{what}' in {timeout:?}; log:\n{}",
                    self.tail()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Durations (µs) of the graph reconciles logged so far, in order.
    fn graph_reconciles(&self) -> Result<Vec<u64>> {
        Ok(self
            .lines()?
            .iter()
            .filter(|l| {
                l["fields"]["message"] == "reconciled" && l["fields"]["controller"] == "graph"
            })
            .filter_map(|l| l["fields"]["duration_us"].as_u64())
            .collect())
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM, then waits for a graceful exit.
    fn stop(&mut self) -> Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        ensure!(status.success(), "kill -TERM failed");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait()? {
                ensure!(
                    status.success(),
                    "the operator exited with {status}:\n{}",
                    self.tail()
                );
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the operator did not stop within 30 s of SIGTERM")
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// === Report ===

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("Machine: {cpu}, {cores} cores. Operator: release build, default configuration.")
}

fn percentile(values: &[u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(rank).copied()
}

/// "p50 / p99" of latencies in microseconds, in milliseconds.
fn p50_p99(latencies: &[u64]) -> String {
    format!(
        "{} / {}",
        millis(percentile(latencies, 0.50)),
        millis(percentile(latencies, 0.99))
    )
}

fn millis(us: Option<u64>) -> String {
    us.map_or_else(
        || "-".to_owned(),
        |us| format!("{:.1} ms", us as f64 / 1000.0),
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn by_resource(requests: &[AuditedRequest]) -> Vec<(String, String)> {
    count_by(requests, |r| {
        if r.subresource.is_empty() {
            format!("{} {}", r.verb, r.resource)
        } else {
            format!("{} {}/{}", r.verb, r.resource, r.subresource)
        }
    })
}

fn by_verb(requests: &[AuditedRequest]) -> Vec<(String, String)> {
    count_by(requests, |r| format!("{} {}", r.verb, r.resource))
}

fn count_by(
    requests: &[AuditedRequest],
    key: impl Fn(&AuditedRequest) -> String,
) -> Vec<(String, String)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for request in requests {
        *counts.entry(key(request)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

fn print_table<K: AsRef<str>, V: AsRef<str>>(rows: &[(K, V)]) {
    println!("| | |\n|---|---:|");
    for (key, value) in rows {
        println!("| {} | {} |", key.as_ref(), value.as_ref());
    }
}
