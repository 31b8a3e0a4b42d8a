//! Integration tests against a real control plane; one module per topic.
mod anchors;
mod helm;
mod repo_paths;
mod scheduling;
