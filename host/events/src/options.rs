//! How a publisher buffers, retries, and which stream it writes to.

use std::time::Duration;

use crate::error::Error;
use crate::subject::STREAM;

/// The settings of a [`Publisher`](crate::Publisher), built from [`PublisherOptions::default`]
/// with the setters.
///
/// ```
/// use std::time::Duration;
/// use dynamo_events::PublisherOptions;
///
/// let options = PublisherOptions::default()
///     .buffer(4096)
///     .max_backoff(Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherOptions {
    pub(crate) buffer: usize,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) stream: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) ack_timeout: Duration,
    pub(crate) stream_max_age: Duration,
    pub(crate) stream_max_bytes: i64,
    pub(crate) duplicate_window: Duration,
}

impl Default for PublisherOptions {
    fn default() -> Self {
        PublisherOptions {
            buffer: 1024,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            stream: STREAM.to_string(),
            connect_timeout: Duration::from_secs(5),
            ack_timeout: Duration::from_secs(5),
            stream_max_age: Duration::from_secs(7 * 24 * 60 * 60),
            stream_max_bytes: 128 * 1024 * 1024,
            duplicate_window: Duration::from_secs(2 * 60),
        }
    }
}

impl PublisherOptions {
    /// How many events may wait to be sent; default 1024.
    ///
    /// Past it, new events are dropped and counted (see the crate docs for why the new ones).
    /// An event is well under 1 KiB, so the default holds at most about 1 MiB, and outlasts an
    /// outage of NATS during which some hundred graphs each go through a full rollout. A larger
    /// buffer survives longer outages at the cost of memory; must be at least 1.
    pub fn buffer(mut self, events: usize) -> Self {
        self.buffer = events;
        self
    }

    /// The wait after the first failed attempt (connect, stream creation or publish); default
    /// 200 ms. It doubles after each further failure up to [`max_backoff`](Self::max_backoff)
    /// and starts over after a success. Shorter recovers faster from a blip, at the price of more
    /// attempts against a server that is down. Must be above zero.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between two attempts; default 30 s. It bounds how late buffered events
    /// go out once NATS is back, against how often a down server is tried (twice a minute at
    /// most). Also the longest delay between the client's reconnect attempts. Must be at least
    /// [`initial_backoff`](Self::initial_backoff).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The JetStream stream, created when missing; default [`STREAM`]. It must capture
    /// [`STREAM_SUBJECTS`](crate::STREAM_SUBJECTS), and its name must not contain whitespace,
    /// `.`, `*`, `>`, `/` or `\`.
    pub fn stream(mut self, name: impl Into<String>) -> Self {
        self.stream = name.into();
        self
    }

    /// How long one attempt to connect to NATS may take; default 5 s. Only the sender task
    /// waits on it, never a caller of `publish`. Must be above zero.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for the stream's acknowledgement of an event (and for JetStream API
    /// answers) before trying again; default 5 s. Shorter resends sooner an event lost with a
    /// connection; too short resends events a slow server has stored (the duplicate is caught by
    /// the stream's dedup window). Must be above zero.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// How long the stream keeps events when the publisher creates it; default 7 days. Older
    /// events are discarded first. Ignored for an existing stream.
    pub fn stream_max_age(mut self, age: Duration) -> Self {
        self.stream_max_age = age;
        self
    }

    /// How many bytes the stream holds when the publisher creates it; default 128 MiB (some
    /// hundred thousand events). The oldest events are discarded past it. Ignored for an
    /// existing stream. Must be above zero.
    pub fn stream_max_bytes(mut self, bytes: i64) -> Self {
        self.stream_max_bytes = bytes;
        self
    }

    /// The stream's deduplication window when the publisher creates it; default 2 minutes (the
    /// server's default). A resend of an event within this time of its first copy is recognized
    /// by its `Nats-Msg-Id` and not stored twice; it should exceed
    /// [`max_backoff`](Self::max_backoff) plus [`ack_timeout`](Self::ack_timeout). Ignored for
    /// an existing stream. Must be above zero and at most the stream's max age.
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// Checks that every option is in range.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let fail = |message: &str| Err(Error::Options(message.to_string()));
        if self.buffer == 0 {
            return fail("buffer must hold at least one event");
        }
        if self.initial_backoff.is_zero() {
            return fail("initial_backoff must be above zero");
        }
        if self.max_backoff < self.initial_backoff {
            return fail("max_backoff must be at least initial_backoff");
        }
        if self.connect_timeout.is_zero() {
            return fail("connect_timeout must be above zero");
        }
        if self.ack_timeout.is_zero() {
            return fail("ack_timeout must be above zero");
        }
        if self.stream_max_bytes <= 0 {
            return fail("stream_max_bytes must be above zero");
        }
        if self.duplicate_window.is_zero() {
            return fail("duplicate_window must be above zero");
        }
        if !self.stream_max_age.is_zero() && self.duplicate_window > self.stream_max_age {
            return fail("duplicate_window must not exceed stream_max_age");
        }
        if self.stream.is_empty()
            || self
                .stream
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || ".*>/\\".contains(c))
        {
            return Err(Error::Options(format!(
                "stream name {:?} must be non-empty without whitespace, '.', '*', '>', '/' or '\\'",
                self.stream
            )));
        }
        Ok(())
    }
}
