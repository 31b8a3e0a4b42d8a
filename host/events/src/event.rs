//! The event itself: which transition happened to which graph, and when.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The most bytes of [`LifecycleEvent::message`] and [`LifecycleEvent::reason`] that are sent.
///
/// Longer text is cut at a character boundary and ends in `…`. Rendering diagnostics can be long;
/// the bound keeps every event far below NATS' default 1 MiB `max_payload`, so an event can never
/// be refused for its size and stall the events queued behind it.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

/// A state transition of a DynamoGraphDeployment, as seen by the operator.
///
/// In JSON it is the snake_case name: `created`, `rendering_failed`, `updating`, `ready`,
/// `degraded`, `deleted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The operator saw the graph for the first time.
    Created,
    /// The graph could not be rendered into Kubernetes objects (invalid spec, plugin error).
    RenderingFailed,
    /// The rendered objects changed and are being rolled out.
    Updating,
    /// Every component of the graph is available.
    Ready,
    /// The graph was ready and no longer is (a component lost availability).
    Degraded,
    /// The graph was deleted.
    Deleted,
}

impl Transition {
    /// Every transition, in declaration order.
    pub const ALL: [Transition; 6] = [
        Transition::Created,
        Transition::RenderingFailed,
        Transition::Updating,
        Transition::Ready,
        Transition::Degraded,
        Transition::Deleted,
    ];

    /// The JSON name of the transition (`rendering_failed` for [`Transition::RenderingFailed`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Created => "created",
            Transition::RenderingFailed => "rendering_failed",
            Transition::Updating => "updating",
            Transition::Ready => "ready",
            Transition::Degraded => "degraded",
            Transition::Deleted => "deleted",
        }
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lifecycle event of one graph, serialized as camelCase JSON.
///
/// Built with [`LifecycleEvent::new`] and the `with_*` setters; [`publisher`](Self::publisher) and
/// [`sequence`](Self::sequence) are filled in by [`Publisher::publish`](crate::Publisher::publish)
/// when the event is queued. Optional fields that are `None` are left out of the JSON.
///
/// ```json
/// {"transition":"ready","namespace":"prod","graph":"llama","uid":"6f1c…","generation":4,
///  "reason":"AllComponentsReady","time":"2026-05-01T12:00:00.123Z",
///  "publisher":"1a2b3c4d5e6f7a8b","sequence":17}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleEvent {
    /// What happened.
    pub transition: Transition,
    /// The Kubernetes namespace of the graph.
    pub namespace: String,
    /// The name of the DynamoGraphDeployment.
    pub graph: String,
    /// The graph's `metadata.uid`, telling apart a deleted graph from a new one of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The graph's `metadata.generation` the transition was observed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// A machine-readable CamelCase reason, as in a Kubernetes condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human-readable explanation, at most [`MAX_TEXT_BYTES`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the event was created, RFC 3339 in UTC with milliseconds (`2026-05-01T12:00:00.123Z`).
    pub time: String,
    /// The id of the [`Publisher`](crate::Publisher) that sent the event, random per publisher
    /// start; empty until queued.
    #[serde(default)]
    pub publisher: String,
    /// The event's number at its publisher, from 1, increasing in queue order; 0 until queued.
    ///
    /// A dropped event uses up its number too, so a gap tells a consumer that events were lost.
    /// `(publisher, sequence)` identifies an event: consumers deduplicate on it.
    #[serde(default)]
    pub sequence: u64,
}

impl LifecycleEvent {
    /// An event for `transition` of graph `namespace/graph`, stamped with the current time.
    pub fn new(
        transition: Transition,
        namespace: impl Into<String>,
        graph: impl Into<String>,
    ) -> Self {
        LifecycleEvent {
            transition,
            namespace: namespace.into(),
            graph: graph.into(),
            uid: None,
            generation: None,
            reason: None,
            message: None,
            time: now_rfc3339(),
            publisher: String::new(),
            sequence: 0,
        }
    }

    /// Sets the graph's `metadata.uid`.
    pub fn with_uid(mut self, uid: impl Into<String>) -> Self {
        self.uid = Some(uid.into());
        self
    }

    /// Sets the graph's `metadata.generation`.
    pub fn with_generation(mut self, generation: i64) -> Self {
        self.generation = Some(generation);
        self
    }

    /// Sets the machine-readable reason, cut to [`MAX_TEXT_BYTES`].
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(truncate(reason.into(), MAX_TEXT_BYTES));
        self
    }

    /// Sets the human-readable message, cut to [`MAX_TEXT_BYTES`].
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(truncate(message.into(), MAX_TEXT_BYTES));
        self
    }

    /// Cuts `reason` and `message` to [`MAX_TEXT_BYTES`], for events whose fields were set
    /// directly rather than through the setters.
    pub(crate) fn bound_text(&mut self) {
        for text in [&mut self.reason, &mut self.message].into_iter().flatten() {
            if text.len() > MAX_TEXT_BYTES {
                *text = truncate(std::mem::take(text), MAX_TEXT_BYTES);
            }
        }
    }
}

/// The current time as RFC 3339 UTC with millisecond precision.
pub(crate) fn now_rfc3339() -> String {
    format!("{:.3}", jiff::Timestamp::now())
}

/// Cuts `text` to at most `max` bytes at a character boundary, ending it in `…` when cut.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    const ELLIPSIS: &str = "…";
    if text.len() <= max {
        return text;
    }
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(ELLIPSIS);
    text
}
