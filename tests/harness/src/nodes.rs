//! Fake GPU nodes that kwok keeps Ready and whose pods it runs without a kubelet.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeSpec, NodeStatus, Taint};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};

use crate::error::{Component, HarnessError, Result};

/// The extended resource name of NVIDIA GPUs, as advertised by the NVIDIA device plugin.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";

/// The annotation that marks a node as managed by the harness's kwok (`kwok.x-k8s.io/node=fake`).
pub const KWOK_NODE_ANNOTATION: &str = "kwok.x-k8s.io/node";

/// The value of [`KWOK_NODE_ANNOTATION`] on fake nodes.
pub const KWOK_NODE_ANNOTATION_VALUE: &str = "fake";

/// The label every fake node carries (`type=kwok`), handy for node selectors.
pub const KWOK_NODE_LABEL: (&str, &str) = ("type", "kwok");

/// The taint the `TaintNodesByCondition` admission plugin puts on every new node; the node
/// lifecycle controller would remove it once the node is Ready, but full mode does not run that
/// controller (kwok's heartbeats are too sparse for it), so the harness removes it itself.
const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";

/// Configuration of the fake nodes of a full-mode control plane, builder style.
///
/// ```
/// # use dynamo_test_harness::FakeNodes;
/// let nodes = FakeNodes::new().count(2).gpus_per_node(8).cpu("64").memory("512Gi");
/// assert_eq!(nodes.node_names(), ["kwok-gpu-node-0", "kwok-gpu-node-1"]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FakeNodes {
    /// How many nodes to create.
    pub count: usize,
    /// Allocatable `nvidia.com/gpu` per node (0 leaves the resource out).
    pub gpus_per_node: u32,
    /// Allocatable CPU per node, as a Kubernetes quantity.
    pub cpu: String,
    /// Allocatable memory per node, as a Kubernetes quantity.
    pub memory: String,
    /// Maximum pods per node.
    pub pods: u32,
    /// Node names are `<name_prefix>-<index>`.
    pub name_prefix: String,
    /// Extra labels (they override the defaults of the same key).
    pub labels: BTreeMap<String, String>,
    /// Taints to put on the nodes; none by default, so plain pods schedule.
    pub taints: Vec<Taint>,
}

impl Default for FakeNodes {
    /// Four nodes with 8 GPUs, 64 CPUs and 512Gi memory each.
    fn default() -> Self {
        FakeNodes {
            count: 4,
            gpus_per_node: 8,
            cpu: "64".to_owned(),
            memory: "512Gi".to_owned(),
            pods: 110,
            name_prefix: "kwok-gpu-node".to_owned(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
        }
    }
}

impl FakeNodes {
    /// The default configuration (see [`FakeNodes::default`]).
    pub fn new() -> Self {
        FakeNodes::default()
    }

    /// Sets how many nodes to create.
    pub fn count(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    /// Sets the allocatable `nvidia.com/gpu` per node.
    pub fn gpus_per_node(mut self, gpus: u32) -> Self {
        self.gpus_per_node = gpus;
        self
    }

    /// Sets the allocatable CPU per node (a quantity such as `"64"` or `"500m"`).
    pub fn cpu(mut self, cpu: impl Into<String>) -> Self {
        self.cpu = cpu.into();
        self
    }

    /// Sets the allocatable memory per node (a quantity such as `"512Gi"`).
    pub fn memory(mut self, memory: impl Into<String>) -> Self {
        self.memory = memory.into();
        self
    }

    /// Sets the maximum number of pods per node.
    pub fn pods(mut self, pods: u32) -> Self {
        self.pods = pods;
        self
    }

    /// Sets the node name prefix.
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// Adds a label to every node.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds a taint to every node.
    pub fn taint(mut self, taint: Taint) -> Self {
        self.taints.push(taint);
        self
    }

    /// The names of the nodes this configuration creates.
    pub fn node_names(&self) -> Vec<String> {
        (0..self.count).map(|i| self.node_name(i)).collect()
    }

    fn node_name(&self, index: usize) -> String {
        format!("{}-{index}", self.name_prefix)
    }

    /// The Node object for node `index`, including the status kwok keeps.
    fn node(&self, index: usize) -> Node {
        let name = self.node_name(index);
        let mut labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_owned(), name.clone()),
            ("kubernetes.io/os".to_owned(), "linux".to_owned()),
            ("kubernetes.io/arch".to_owned(), "amd64".to_owned()),
            ("node-role.kubernetes.io/agent".to_owned(), String::new()),
            (KWOK_NODE_LABEL.0.to_owned(), KWOK_NODE_LABEL.1.to_owned()),
        ]);
        let mut resources = BTreeMap::from([
            ("cpu".to_owned(), Quantity(self.cpu.clone())),
            ("memory".to_owned(), Quantity(self.memory.clone())),
            ("pods".to_owned(), Quantity(self.pods.to_string())),
            // Real nodes report their disk; example graphs request some.
            ("ephemeral-storage".to_owned(), Quantity("2Ti".to_owned())),
        ]);
        if self.gpus_per_node > 0 {
            labels.insert("nvidia.com/gpu.present".to_owned(), "true".to_owned());
            labels.insert(
                "nvidia.com/gpu.count".to_owned(),
                self.gpus_per_node.to_string(),
            );
            resources.insert(
                GPU_RESOURCE.to_owned(),
                Quantity(self.gpus_per_node.to_string()),
            );
        }
        labels.extend(self.labels.clone());
        let n = index + 1;
        let ip = format!("172.20.{}.{}", (n / 250) % 250, n % 250 + 1);
        Node {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(labels),
                annotations: Some(BTreeMap::from([
                    (
                        KWOK_NODE_ANNOTATION.to_owned(),
                        KWOK_NODE_ANNOTATION_VALUE.to_owned(),
                    ),
                    ("node.alpha.kubernetes.io/ttl".to_owned(), "0".to_owned()),
                ])),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                allocatable: Some(resources.clone()),
                capacity: Some(resources),
                addresses: Some(vec![
                    NodeAddress {
                        type_: "InternalIP".to_owned(),
                        address: ip,
                    },
                    NodeAddress {
                        type_: "Hostname".to_owned(),
                        address: name,
                    },
                ]),
                ..NodeStatus::default()
            }),
        }
    }
}

/// Creates the nodes of `config` and returns their names (readiness is kwok's job).
pub(crate) async fn create(client: &Client, config: &FakeNodes) -> Result<Vec<String>> {
    let api: Api<Node> = Api::all(client.clone());
    let mut names = Vec::with_capacity(config.count);
    for index in 0..config.count {
        let node = config.node(index);
        let name = config.node_name(index);
        api.create(&PostParams::default(), &node)
            .await
            .map_err(|e| {
                HarnessError::kube(Component::FakeNodes, format!("creating node {name}"), e)
            })?;
        // Replace the taints added by admission (see NOT_READY_TAINT) with the configured ones.
        let taints = serde_json::json!({ "spec": { "taints": config.taints } });
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&taints))
            .await
            .map_err(|e| {
                HarnessError::kube(
                    Component::FakeNodes,
                    format!("setting taints of node {name}"),
                    e,
                )
            })?;
        names.push(name);
    }
    Ok(names)
}

/// Succeeds when every node in `names` is Ready and free of the not-ready taint.
pub(crate) async fn all_ready(
    client: &Client,
    names: &[String],
) -> std::result::Result<(), String> {
    let api: Api<Node> = Api::all(client.clone());
    for name in names {
        let node = api
            .get(name)
            .await
            .map_err(|e| format!("getting node {name}: {e}"))?;
        let ready = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready {
            return Err(format!("node {name} is not Ready yet"));
        }
        let tainted = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .is_some_and(|ts| ts.iter().any(|t| t.key == NOT_READY_TAINT));
        if tainted {
            return Err(format!("node {name} still has the {NOT_READY_TAINT} taint"));
        }
    }
    Ok(())
}
