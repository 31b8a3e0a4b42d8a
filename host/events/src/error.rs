//! Why a publisher could not start.

/// Why [`Publisher::start`](crate::Publisher::start) refused to start.
///
/// NATS being unreachable is not among them: the publisher connects, and reconnects, in the
/// background.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The NATS address is empty or not a NATS URL (`nats://host:port`, `host:port`, …).
    #[error("invalid NATS address {address:?}: {reason}")]
    Address {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option is out of range.
    #[error("invalid event publisher option: {0}")]
    Options(String),
    /// `start` was called outside a Tokio runtime, so there is nowhere to run the sender task.
    #[error("the event publisher must be started inside a Tokio runtime")]
    NoRuntime,
}
