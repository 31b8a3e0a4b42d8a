//! Graph lifecycle events on NATS JetStream: each state transition of a DynamoGraphDeployment
//! (created, rendering failed, updating, ready, degraded, deleted) as a JSON
//! [`LifecycleEvent`] on subject `dynamo.operator.events.<namespace>.<graph>` (see [`subject()`]),
//! stored in the stream [`STREAM`], which is created when missing.
//!
//! ```text
//! reconcile ─▶ Publisher::publish ─▶ bounded FIFO ─▶ sender task ─▶ JetStream publish + ack
//!   (sync, never waits)          (drops new events     (retries the head with backoff,
//!                                 when full, counted)   reconnects, recreates the stream)
//! ```
//!
//! - [`event`]: [`Transition`] and [`LifecycleEvent`];
//! - [`mod@subject`]: the subject of a graph, [`STREAM`] and its subject filter;
//! - [`options`]: [`PublisherOptions`] and their defaults;
//! - [`publisher`]: [`Publisher`], its sender task and [`Stats`];
//! - [`error`]: why a publisher does not start.
//!
//! # NATS never blocks reconciling
//!
//! [`Publisher::publish`] is a plain function: it numbers the event, serializes it and appends it
//! to an in-memory queue. Everything that talks to NATS (connecting, creating the stream,
//! publishing, waiting for acks, backing off) happens in one background task. An unreachable
//! server at start is not an error either: [`Publisher::start`] fails only on an unparsable
//! address or options.
//!
//! # Why bounded, and why the new events are dropped
//!
//! While NATS is down events pile up; an unbounded queue would turn a long outage into unbounded
//! memory in the operator. The queue holds [`PublisherOptions::buffer`] events (1024 by
//! default). When it is full the *new* event is dropped, counted in [`Stats::dropped`] and logged
//! at warn (the first drop, then every 100th), rather than the oldest:
//!
//! - an event once accepted is never discarded by the publisher (short of a timed-out
//!   [`Publisher::shutdown`]), so `publish` returning `Some(sequence)` means something;
//! - the head of the queue may be in flight, perhaps stored by the server with its ack lost;
//!   dropping it would make "delivered" and "dropped" ambiguous;
//! - what is delivered is an unbroken history from the start of the outage, followed by one gap
//!   that consumers see in the sequence numbers. The graph's current state is always in its
//!   Kubernetes status, so a consumer that sees a gap resynchronizes from there.
//!
//! # Ordering and delivery guarantees
//!
//! One sender task sends the queue in FIFO order and takes the next event only after the stream
//! acknowledged the previous one; a failed attempt keeps the event at the head and retries it
//! after an exponential backoff ([`PublisherOptions::initial_backoff`] doubling up to
//! [`PublisherOptions::max_backoff`]; a reconnect of the client ends the wait early). So the
//! events of one publisher, and therefore of each graph, are stored in the order they were
//! published, and none is skipped.
//!
//! Delivery is at least once. An event whose ack was lost is sent again; every copy carries the
//! `Nats-Msg-Id` header `<publisher>-<sequence>`, so the stream stores a resend within its
//! duplicate window ([`PublisherOptions::duplicate_window`], 2 minutes by default) only once. A
//! resend later than that (an outage longer than the window right after the server stored an
//! event) can be stored twice: consumers deduplicate on the pair
//! ([`LifecycleEvent::publisher`], [`LifecycleEvent::sequence`]). The publisher id is random per
//! [`Publisher::start`]; the sequence starts at 1 and increases by one per `publish` call,
//! dropped events included, so a gap means dropped events.
//!
//! # Stream defaults
//!
//! When the stream is missing it is created with file storage, one replica, subjects
//! [`STREAM_SUBJECTS`], events kept 7 days and at most 128 MiB (oldest discarded first), and a
//! 2-minute duplicate window; see [`PublisherOptions`]. An existing stream is used as it is.
#![forbid(unsafe_code)]

mod backoff;
pub mod error;
pub mod event;
mod id;
pub mod options;
pub mod publisher;
mod queue;
pub mod subject;

#[cfg(test)]
mod tests;

pub use error::Error;
pub use event::{LifecycleEvent, MAX_TEXT_BYTES, Transition};
pub use options::PublisherOptions;
pub use publisher::{Publisher, Stats};
pub use subject::{STREAM, STREAM_SUBJECTS, SUBJECT_PREFIX, subject};
