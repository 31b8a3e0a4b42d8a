//! The operator binary as a child process with its own ports, configuration and identity: what
//! the webhook, leader-election and namespace-scope tests run.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result};
use dynamo_test_harness::ControlPlane;

use crate::common;

/// A running `dynamo-operator run`; killed when dropped.
pub struct Running {
    child: Option<Child>,
    /// Port of `/metrics`, `/healthz` and `/readyz`.
    pub http_port: u16,
    /// Port of the webhook server (HTTPS).
    pub webhook_port: u16,
    /// Where its log goes.
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

/// How to start the operator.
pub struct Launch<'a> {
    cp: &'a ControlPlane,
    config: String,
    args: Vec<String>,
    kubeconfig: Option<PathBuf>,
    raw: Option<String>,
}

/// An unused local port.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl<'a> Launch<'a> {
    /// The Deployment pathway, with `extra` appended to the configuration (top-level YAML keys
    /// other than `server` and `orchestrators`).
    pub fn new(cp: &'a ControlPlane, extra: &str) -> Self {
        Self {
            cp,
            config: extra.to_owned(),
            args: Vec::new(),
            kubeconfig: None,
            raw: None,
        }
    }

    /// A whole configuration (e.g. the one a chart renders) instead of the Deployment pathway's:
    /// written as it is, but for `server`, whose metrics and health endpoints and webhook are
    /// moved to free loopback ports (the `webhook` entries of [`Launch::start`] are merged in).
    pub fn raw_config(mut self, yaml: &str) -> Self {
        self.raw = Some(yaml.to_owned());
        self
    }

    /// Adds command-line arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Uses this kubeconfig instead of the control plane's admin one.
    pub fn kubeconfig(mut self, path: PathBuf) -> Self {
        self.kubeconfig = Some(path);
        self
    }

    /// Starts the binary; its log goes to a file under the control plane's directory.
    pub fn start(self, name: &str, webhook: &str) -> Result<Running> {
        let dir = tempfile::tempdir()?;
        let http_port = free_port()?;
        let webhook_port = free_port()?;
        let config = match &self.raw {
            Some(raw) => raw_config(raw, http_port, webhook_port, webhook)?,
            None => format!(
                "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\n\
             kind: OperatorConfiguration\n\
             orchestrators:\n  grove: {{enabled: false}}\n  lws: {{enabled: false}}\n  kaiScheduler: {{enabled: false}}\n\
             server:\n  metrics: {{bindAddress: 127.0.0.1, port: {http_port}}}\n  \
             healthProbe: {{bindAddress: 127.0.0.1, port: {http_port}}}\n  \
             webhook: {{host: 127.0.0.1, port: {webhook_port}{webhook}}}\n{}",
                self.config
            ),
        };
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, config)?;
        let log = self.cp.dir().join("logs").join(format!("{name}.log"));
        let file = std::fs::File::create(&log)?;
        let kubeconfig = self
            .kubeconfig
            .unwrap_or_else(|| self.cp.kubeconfig_path().to_path_buf());
        let child = Command::new(env!("CARGO_BIN_EXE_dynamo-operator"))
            .args(["run", "--kubeconfig"])
            .arg(kubeconfig)
            .arg("--config")
            .arg(&path)
            .args(&self.args)
            .env("XDG_CACHE_HOME", common::cache_dir())
            .env("RUST_LOG", "info")
            .env_remove("POD_NAMESPACE")
            .env_remove("POD_SERVICE_ACCOUNT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .context("starting dynamo-operator run")?;
        Ok(Running {
            child: Some(child),
            http_port,
            webhook_port,
            log,
            _dir: dir,
        })
    }
}

/// `raw` with its `server` endpoints on loopback: metrics and health on `http_port`, the webhook
/// on `webhook_port` with the flow-mapping entries of `webhook` (`", key: value, ..."`) merged in.
fn raw_config(raw: &str, http_port: u16, webhook_port: u16, webhook: &str) -> Result<String> {
    use serde_json::{Value, json};
    let mut config: Value =
        serde_yaml_ng::from_str(raw).context("parsing the raw configuration")?;
    let server = &mut config["server"];
    server["metrics"]["bindAddress"] = json!("127.0.0.1");
    server["metrics"]["port"] = json!(http_port);
    server["healthProbe"]["bindAddress"] = json!("127.0.0.1");
    server["healthProbe"]["port"] = json!(http_port);
    let entries: Value = serde_yaml_ng::from_str(&format!(
        "{{host: 127.0.0.1, port: {webhook_port}{webhook}}}"
    ))
    .context("parsing the webhook entries")?;
    for (key, value) in entries.as_object().into_iter().flatten() {
        server["webhook"][key] = value.clone();
    }
    Ok(serde_yaml_ng::to_string(&config)?)
}

impl Running {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// GET `path` on the metrics/health port: status and body, or `None` when nothing answers.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.http_port))
            .await
            .ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut text = String::new();
        stream.read_to_string(&mut text).await.ok()?;
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Some((status, body))
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        common::wait_for("the operator's /readyz", timeout, || async {
            Ok(matches!(self.get("/readyz").await, Some((200, _))).then_some(()))
        })
        .await
        .with_context(|| format!("log:\n{}", self.log_text()))
    }

    /// The value of an unlabelled metric, when the endpoint answers.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics").await?;
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// SIGTERM, then wait for the exit (at most `timeout`); true when it exited in time.
    pub fn terminate(&mut self, timeout: Duration) -> Result<bool> {
        let Some(mut child) = self.child.take() else {
            return Ok(true);
        };
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill()?;
        child.wait()?;
        Ok(false)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
