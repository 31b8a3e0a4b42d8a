//! The operator on a real control plane (full mode: controller-manager, scheduler, kwok GPU
//! nodes); one module per topic. Each test runs its own operator on its own namespace.
mod chart_rbac;
mod common;
mod components;
mod conversion;
mod discovery_rbac;
mod graphs;
mod leadership;
mod lifecycle;
mod multinode;
mod plain_engines;
mod process;
mod resilience;
mod rollout;
mod scaling;
mod scope;
mod status;
mod storage;
mod takeover;
mod unsupported;
mod webhooks;
