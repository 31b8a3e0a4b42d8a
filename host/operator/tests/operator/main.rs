//! The operator on a real control plane (full mode: controller-manager, scheduler, kwok GPU
//! nodes); one module per topic. Each test runs its own operator on its own namespace.
mod common;
mod components;
mod graphs;
mod lifecycle;
mod multinode;
mod resilience;
mod rollout;
mod scaling;
mod status;
mod takeover;
