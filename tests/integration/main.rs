//! Integration tests against a real control plane; one module per topic.
mod scheduling;
mod anchors;
