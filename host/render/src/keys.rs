//! Well-known label and annotation keys, and other fixed names the rendered objects share.
//!
//! The keys are those of NVIDIA Dynamo's operator, so selectors, dashboards and tools written
//! against it keep working on the objects rendered here.

/// Label keys the operator puts on the objects and pods it renders.
pub mod label {
    /// Selector label of a component's pods: the DCD name (Deployment, LeaderWorkerSet) or
    /// `{dgd}-{clique}` (Grove).
    pub const SELECTOR: &str = "nvidia.com/selector";
    /// Service name as written in `spec.services`.
    pub const COMPONENT: &str = "nvidia.com/dynamo-component";
    /// Type of the component: its `componentType`, except that a worker whose
    /// `subComponentType` is `prefill` or `decode` is of that type (Dynamo 1.5's component
    /// types). Pods carry it and Services select on it.
    pub const COMPONENT_TYPE: &str = "nvidia.com/dynamo-component-type";
    /// `subComponentType` of the service (`prefill` or `decode` for a disaggregated worker).
    pub const SUB_COMPONENT_TYPE: &str = "nvidia.com/dynamo-sub-component-type";
    /// Class of a component: [`WORKER_CLASS`] on the Dynamo workers of a graph with an endpoint
    /// picker, whose InferencePool selects on it.
    pub const COMPONENT_CLASS: &str = "nvidia.com/dynamo-component-class";
    /// Value of [`COMPONENT_CLASS`] on workers.
    pub const WORKER_CLASS: &str = "worker";
    /// Dynamo namespace the component registers in.
    pub const DYNAMO_NAMESPACE: &str = "nvidia.com/dynamo-namespace";
    /// Name of the parent DynamoGraphDeployment.
    pub const GRAPH_NAME: &str = "nvidia.com/dynamo-graph-deployment-name";
    /// Hash of the worker services' pod-affecting spec (worker components only).
    pub const WORKER_HASH: &str = "nvidia.com/dynamo-worker-hash";
    /// `"true"` unless the annotation [`super::annotation::ENABLE_METRICS`] is `"false"`.
    pub const METRICS_ENABLED: &str = "nvidia.com/metrics-enabled";
    /// First 8 hex digits of sha256(`modelRef.name`); selects pods for model Services.
    pub const BASE_MODEL_HASH: &str = "nvidia.com/dynamo-base-model-hash";
    /// Discovery backend of the pods (`kubernetes`), under Kubernetes discovery.
    pub const DISCOVERY_BACKEND: &str = "nvidia.com/dynamo-discovery-backend";
    /// `"true"` on pods and Services that take part in Kubernetes discovery.
    pub const DISCOVERY_ENABLED: &str = "nvidia.com/dynamo-discovery-enabled";
    /// LeaderWorkerSet pod role (`leader` or `worker`).
    pub const LWS_ROLE: &str = "role";
    /// Replica index label of the Volcano PodGroups that earlier versions made beside each
    /// LeaderWorkerSet. Nothing is rendered with it any more; the component controller finds
    /// such PodGroups by it and removes them.
    pub const LWS_INSTANCE_ID: &str = "instance-id";
    /// KAI scheduler queue of a pod (when the KAI scheduler is on).
    pub const KAI_QUEUE: &str = "kai.scheduler/queue";
    /// Value `"true"`.
    pub const TRUE: &str = "true";
    /// Label naming who manages an object: the discovery RBAC, generated Secrets and shared
    /// ServiceAccounts carry it (Dynamo's operator labels its RBAC the same way).
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    /// Value of [`MANAGED_BY`] on what this operator manages.
    pub const MANAGED_BY_OPERATOR: &str = "dynamo-operator";
    /// Label Dynamo's operator puts (value [`MANAGED_BY_OPERATOR`]) on the model Services it
    /// shares between graphs.
    pub const DYNAMO_MANAGED_BY: &str = "nvidia.com/managed-by";
    /// Value `"false"`.
    pub const FALSE: &str = "false";
}

/// Annotation keys the operator reads (user inputs) or writes.
pub mod annotation {
    /// `"false"` keeps a graph off Grove even when Grove is enabled.
    pub const ENABLE_GROVE: &str = "nvidia.com/enable-grove";
    /// `"false"` drops the `nvidia.com/metrics-enabled` label.
    pub const ENABLE_METRICS: &str = "nvidia.com/enable-metrics";
    /// Discovery backend override: `kubernetes` or `etcd`.
    pub const DISCOVERY_BACKEND: &str = "nvidia.com/dynamo-discovery-backend";
    /// Kubernetes discovery granularity: `pod` or `container`.
    pub const KUBE_DISCOVERY_MODE: &str = "nvidia.com/dynamo-kube-discovery-mode";
    /// Backend framework of one worker service, naming a framework some loaded backend plugin
    /// lists in its metadata `frameworks`. For custom plugins whose framework the CRD enum of
    /// `spec.backendFramework` (`sglang|vllm|trtllm`) cannot hold, e.g. `llamacpp`; read from the
    /// service's own `annotations` and, for that service, preferred over `spec.backendFramework`.
    pub const BACKEND_FRAMEWORK: &str = "nvidia.com/backend-framework";
    /// vLLM multi-node executor: `mp` or `ray`.
    pub const VLLM_EXECUTOR_BACKEND: &str = "nvidia.com/vllm-distributed-executor-backend";
    /// KAI scheduler queue of a graph's pods (default [`super::KAI_DEFAULT_QUEUE`]).
    pub const KAI_QUEUE: &str = "nvidia.com/kai-scheduler-queue";
    /// `"true"` disables automatic imagePullSecrets (a controller concern).
    pub const DISABLE_IMAGE_PULL_SECRET_DISCOVERY: &str =
        "nvidia.com/disable-image-pull-secret-discovery";
    /// Deployment strategy of a component: `RollingUpdate` (default) or `Recreate`.
    pub const DEPLOYMENT_STRATEGY: &str = "nvidia.com/deployment-strategy";
    /// `maxSurge` of a component's rolling update (default `25%`).
    pub const MAX_SURGE: &str = "nvidia.com/deployment-rolling-update-max-surge";
    /// `maxUnavailable` of a component's rolling update (default `25%`).
    pub const MAX_UNAVAILABLE: &str = "nvidia.com/deployment-rolling-update-max-unavailable";
    /// Operator version that created the graph (semver), stamped on CREATE.
    pub const ORIGIN_VERSION: &str = "nvidia.com/dynamo-operator-origin-version";
    /// Worker hash the graph currently runs (written by the controller).
    pub const CURRENT_WORKER_HASH: &str = "nvidia.com/current-worker-hash";
    /// The worker hash (v2, Dynamo 1.5) the graph's running workers were rolled out under;
    /// authoritative over [`CURRENT_WORKER_HASH`] when both are set.
    pub const CURRENT_WORKER_HASH_V2: &str = "nvidia.com/current-worker-hash-v2";
    /// The workload provider chosen when the graph was created (`grove` or `component`),
    /// stamped by the defaulting webhook and never changed afterwards.
    pub const WORKLOAD_PROVIDER: &str = "nvidia.com/workload-provider";
    /// Restart token written onto pod templates by the controller.
    pub const RESTART_AT: &str = "nvidia.com/restartAt";
    /// Model a model Service serves; also on the workloads, Services and pods of the
    /// components serving it (`modelRef.name`).
    pub const BASE_MODEL: &str = "nvidia.com/dynamo-base-model";
    /// Istio sidecar injection switch; `"false"` on the endpoint picker, which speaks gRPC to
    /// the gateway directly.
    pub const ISTIO_INJECT: &str = "sidecar.istio.io/inject";

    /// Graph annotations copied onto every DynamoComponentDeployment's `spec.annotations`.
    pub const PROPAGATED_TO_COMPONENTS: [&str; 6] = [
        ENABLE_METRICS,
        DISCOVERY_BACKEND,
        KUBE_DISCOVERY_MODE,
        ORIGIN_VERSION,
        VLLM_EXECUTOR_BACKEND,
        KAI_QUEUE,
    ];
}

/// Name of the main container of every rendered pod.
pub const MAIN_CONTAINER: &str = "main";
/// Name of the generated frontend sidecar container.
pub const FRONTEND_SIDECAR_CONTAINER: &str = "sidecar-frontend";
/// Default KAI scheduler queue.
pub const KAI_DEFAULT_QUEUE: &str = "dynamo";
/// Scheduler name of KAI.
pub const KAI_SCHEDULER_NAME: &str = "kai-scheduler";
/// ServiceAccount of planner pods.
pub const PLANNER_SERVICE_ACCOUNT: &str = "planner-serviceaccount";
/// ServiceAccount of endpoint-picker pods.
pub const EPP_SERVICE_ACCOUNT: &str = "epp-serviceaccount";
/// Dynamo namespace of services with `globalDynamoNamespace: true`.
pub const GLOBAL_DYNAMO_NAMESPACE: &str = "dynamo";

/// Name of the per-graph ServiceAccount used under Kubernetes discovery.
pub fn discovery_service_account(graph: &str) -> String {
    format!("{graph}-k8s-service-discovery")
}

/// Name of the per-graph ConfigMap holding the wait-for-leader script (multi-node graphs).
pub fn wait_leader_config_map(graph: &str) -> String {
    format!("{graph}-wait-leader-script")
}
