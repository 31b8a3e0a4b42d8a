//! The publisher: a non-blocking `publish` in front of a sender task that owns the NATS
//! connection.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::stream::{Config as StreamConfig, DiscardPolicy, StorageType};
use async_nats::{ConnectOptions, Event, ServerAddr};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::backoff::{self, Backoff};
use crate::error::Error;
use crate::event::LifecycleEvent;
use crate::id::new_publisher_id;
use crate::options::PublisherOptions;
use crate::queue::{Outgoing, Queue, Refused, Rejected};
use crate::subject::STREAM_SUBJECTS;

/// The name the publisher's NATS connection shows in the server's monitoring.
const CLIENT_NAME: &str = "dynamo-operator-events";

/// Drops are logged for the first one and then for every this many.
const DROP_LOG_EVERY: u64 = 100;

/// Failed attempts in a row are logged at warn for the first one and then for every this many;
/// the others at debug.
const RETRY_LOG_EVERY: u32 = 10;

/// Counters of a [`Publisher`], read with [`Publisher::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events the stream acknowledged (a resend recognized as a duplicate counts once).
    pub published: u64,
    /// Events given up: refused by `publish` because the buffer was full or the publisher shut
    /// down, or still queued when [`Publisher::shutdown`] ran out of time.
    pub dropped: u64,
    /// Events waiting to be sent, the one being sent included.
    pub queued: usize,
    /// Failed attempts (connect, stream creation or publish) that were followed by a backoff.
    pub retries: u64,
}

/// Publishes [`LifecycleEvent`]s to a JetStream stream from a background task; cheap to clone,
/// every clone feeds the same queue.
///
/// See the [crate docs](crate) for the guarantees. Dropping the last clone stops the sender
/// task at once, discarding what is still queued: call [`shutdown`](Self::shutdown) first to
/// flush.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

/// What the clones of a publisher share.
struct Inner {
    shared: Arc<Shared>,
    /// The sender task, taken by the first `shutdown`.
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.task.get_mut().take() {
            task.abort();
        }
    }
}

/// What `publish` and the sender task share.
struct Shared {
    id: String,
    queue: Mutex<Queue>,
    /// Wakes the sender task: an event was queued, or the publisher is shutting down.
    wake: Notify,
    /// Wakes the sender task from a backoff wait: the NATS client (re)connected.
    connected: Notify,
    published: AtomicU64,
    dropped: AtomicU64,
    retries: AtomicU64,
}

impl Shared {
    /// The queue; a panic while it was locked cannot leave it half-changed, so poisoning is
    /// ignored.
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stats(&self) -> Stats {
        Stats {
            published: self.published.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            queued: self.queue().len(),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

impl Publisher {
    /// Starts a publisher to the NATS server(s) at `address` and returns at once.
    ///
    /// `address` is a NATS URL (`nats://nats.dynamo:4222`, `tls://…`, or `host:port`), or several
    /// separated by commas. The connection is made by a task spawned on the current Tokio
    /// runtime, on the first event, and retried with backoff for as long as it fails: an
    /// unreachable server is not an error here. Errors are an unparsable address, an option out
    /// of range, and no current Tokio runtime.
    pub fn start(address: &str, options: PublisherOptions) -> Result<Publisher, Error> {
        options.validate()?;
        let servers = parse_servers(address)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let id = new_publisher_id();
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::new(options.buffer, id.clone())),
            id,
            wake: Notify::new(),
            connected: Notify::new(),
            published: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        });
        debug!(
            publisher = %shared.id,
            address,
            stream = %options.stream,
            buffer = options.buffer,
            "starting the lifecycle event publisher"
        );
        let task = runtime.spawn(Sender::new(Arc::clone(&shared), servers, options).run());
        Ok(Publisher {
            inner: Arc::new(Inner {
                shared,
                task: tokio::sync::Mutex::new(Some(task)),
            }),
        })
    }

    /// Queues `event` for sending and returns its sequence number, or `None` if it was dropped.
    ///
    /// Never blocks and never waits on NATS: it numbers the event, writes it as JSON and appends
    /// it to the in-memory queue under a lock held for microseconds. When the queue is full, or
    /// after [`shutdown`](Self::shutdown), the event is dropped, counted in
    /// [`Stats::dropped`], and logged at warn (the first drop and every 100th).
    pub fn publish(&self, event: LifecycleEvent) -> Option<u64> {
        let shared = &self.inner.shared;
        let pushed = shared.queue().push(event);
        match pushed {
            Ok(sequence) => {
                shared.wake.notify_one();
                Some(sequence)
            }
            Err(refused) => {
                let dropped = shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                log_drop(&shared.id, dropped, &refused);
                None
            }
        }
    }

    /// The publisher's counters.
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats()
    }

    /// The publisher id written into every event ([`LifecycleEvent::publisher`]).
    pub fn id(&self) -> &str {
        &self.inner.shared.id
    }

    /// Stops accepting events, sends what is queued within `timeout`, stops the sender task and
    /// returns the final counters.
    ///
    /// Events still queued when `timeout` runs out are counted as dropped. Later `publish` calls
    /// on any clone drop their event; calling `shutdown` again only returns the counters.
    pub async fn shutdown(&self, timeout: Duration) -> Stats {
        let shared = &self.inner.shared;
        shared.queue().close();
        shared.wake.notify_one();
        let mut task = self.inner.task.lock().await;
        if let Some(mut running) = task.take()
            && tokio::time::timeout(timeout, &mut running).await.is_err()
        {
            running.abort();
            // Wait until the task is gone so that it can no longer take events off the queue.
            let _cancelled = running.await;
        }
        let abandoned = shared.queue().abandon();
        if abandoned > 0 {
            let abandoned = u64::try_from(abandoned).unwrap_or(u64::MAX);
            shared.dropped.fetch_add(abandoned, Ordering::Relaxed);
            warn!(
                publisher = %shared.id,
                abandoned,
                ?timeout,
                "lifecycle events not delivered before the publisher shut down"
            );
        }
        drop(task);
        shared.stats()
    }
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("id", &self.inner.shared.id)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Parses a comma-separated list of NATS server addresses (`nats://` or `tls://`, the scheme
/// defaulting to `nats://` and the port to 4222).
pub(crate) fn parse_servers(address: &str) -> Result<Vec<ServerAddr>, Error> {
    let invalid = |reason: String| Error::Address {
        address: address.to_string(),
        reason,
    };
    let servers = address
        .split(',')
        .map(str::trim)
        .filter(|server| !server.is_empty())
        .map(|server| {
            let parsed = server
                .parse::<ServerAddr>()
                .map_err(|err| invalid(format!("{server:?}: {err}")))?;
            let url = parsed.clone().into_inner();
            if url.host_str().is_none_or(str::is_empty) {
                return Err(invalid(format!("{server:?} has no host")));
            }
            if matches!(url.scheme(), "ws" | "wss") {
                return Err(invalid(format!(
                    "{server:?}: WebSocket addresses are not supported, use nats:// or tls://"
                )));
            }
            Ok(parsed)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if servers.is_empty() {
        return Err(invalid("no server address".to_string()));
    }
    Ok(servers)
}

/// Logs a dropped event: the first drop and then every [`DROP_LOG_EVERY`]th.
fn log_drop(publisher: &str, dropped: u64, refused: &Refused) {
    if dropped != 1 && !dropped.is_multiple_of(DROP_LOG_EVERY) {
        return;
    }
    let reason = match &refused.reason {
        Rejected::Full => "the event buffer is full (NATS unreachable or slow)".to_string(),
        Rejected::Closed => "the publisher was shut down".to_string(),
        Rejected::Json(err) => format!("the event could not be written as JSON: {err}"),
    };
    warn!(
        publisher,
        dropped_total = dropped,
        sequence = refused.sequence,
        transition = %refused.event.transition,
        namespace = %refused.event.namespace,
        graph = %refused.event.graph,
        "lifecycle event dropped: {reason}; logged for the first drop and every {DROP_LOG_EVERY}th"
    );
}

/// Why an attempt to send the head of the queue failed.
#[derive(Debug)]
enum Failure {
    /// Try the same event again after a backoff.
    Retry {
        /// What was being done: connecting, creating the stream or publishing.
        stage: &'static str,
        error: String,
    },
    /// The event can never be sent (too large for the server): drop it.
    Permanent(String),
}

/// The NATS side of the publisher, owned by the sender task.
struct Sender {
    shared: Arc<Shared>,
    servers: Vec<ServerAddr>,
    options: PublisherOptions,
    /// The JetStream context of the connected client; `None` until the first connect succeeds,
    /// after which the client reconnects by itself.
    context: Option<async_nats::jetstream::Context>,
    /// Whether the stream is known to exist on the current connection.
    stream_ready: bool,
    backoff: Backoff,
}

impl Sender {
    fn new(shared: Arc<Shared>, servers: Vec<ServerAddr>, options: PublisherOptions) -> Self {
        let backoff = Backoff::new(options.initial_backoff, options.max_backoff);
        Sender {
            shared,
            servers,
            options,
            context: None,
            stream_ready: false,
            backoff,
        }
    }

    /// Sends the queue head first until the publisher shuts down with an empty queue.
    async fn run(mut self) {
        while let Some(head) = self.next_event().await {
            match self.send(&head).await {
                Ok(ack) => {
                    self.shared.queue().pop_acknowledged(head.sequence);
                    self.shared.published.fetch_add(1, Ordering::Relaxed);
                    let failures = self.backoff.succeed();
                    if failures > 0 {
                        info!(
                            publisher = %self.shared.id,
                            failures,
                            queued = self.shared.queue().len(),
                            "lifecycle events are delivered to NATS again"
                        );
                    }
                    debug!(
                        publisher = %self.shared.id,
                        sequence = head.sequence,
                        subject = %head.subject,
                        stream = %ack.stream,
                        stream_sequence = ack.sequence,
                        duplicate = ack.duplicate,
                        "lifecycle event published"
                    );
                }
                Err(Failure::Permanent(error)) => {
                    self.shared.queue().pop_acknowledged(head.sequence);
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    error!(
                        publisher = %self.shared.id,
                        sequence = head.sequence,
                        subject = %head.subject,
                        %error,
                        "lifecycle event dropped: NATS can never accept it"
                    );
                }
                Err(Failure::Retry { stage, error }) => {
                    self.shared.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = self.backoff.fail();
                    let failures = self.backoff.failures();
                    let queued = self.shared.queue().len();
                    if failures == 1 || failures.is_multiple_of(RETRY_LOG_EVERY) {
                        warn!(
                            publisher = %self.shared.id,
                            stage,
                            %error,
                            failures,
                            queued,
                            retry_in = ?wait,
                            "lifecycle events cannot be delivered to NATS; retrying"
                        );
                    } else {
                        debug!(
                            publisher = %self.shared.id,
                            stage,
                            %error,
                            failures,
                            queued,
                            retry_in = ?wait,
                            "lifecycle event delivery failed; retrying"
                        );
                    }
                    // A reconnect of the client ends the wait early: the server is back.
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.shared.connected.notified() => {}
                    }
                }
            }
        }
        debug!(publisher = %self.shared.id, "lifecycle event publisher stopped");
    }

    /// The queue head, waiting for one; `None` once the publisher is shut down and drained.
    async fn next_event(&self) -> Option<Arc<Outgoing>> {
        loop {
            {
                let queue = self.shared.queue();
                if let Some(head) = queue.front() {
                    return Some(head);
                }
                if queue.is_closed() {
                    return None;
                }
            }
            self.shared.wake.notified().await;
        }
    }

    /// One attempt to get `event` acknowledged by the stream: connect if never connected,
    /// create the stream if not known to exist, publish and wait for the ack.
    async fn send(&mut self, event: &Outgoing) -> Result<PublishAck, Failure> {
        let context = match &self.context {
            Some(context) => context.clone(),
            None => {
                let context = self.connect().await?;
                self.context = Some(context.clone());
                context
            }
        };
        if !self.stream_ready {
            context
                .get_or_create_stream(self.stream_config())
                .await
                .map_err(|err| Failure::Retry {
                    stage: "creating the stream",
                    error: err.to_string(),
                })?;
            self.stream_ready = true;
        }
        let message = PublishMessage::build()
            .payload(event.payload.clone())
            .message_id(&event.message_id);
        let published = match context.send_publish(event.subject.clone(), message).await {
            Ok(ack) => ack.await,
            Err(err) => Err(err),
        };
        published.map_err(|err| match err.kind() {
            PublishErrorKind::MaxPayloadExceeded => Failure::Permanent(err.to_string()),
            kind => {
                if kind == PublishErrorKind::StreamNotFound {
                    // The server lost the stream (restarted without its store, or it was
                    // deleted): create it again before the next attempt.
                    self.stream_ready = false;
                }
                Failure::Retry {
                    stage: "publishing",
                    error: err.to_string(),
                }
            }
        })
    }

    /// Connects to NATS; the client then reconnects by itself, logging and waking the task on
    /// each (re)connection.
    async fn connect(&self) -> Result<async_nats::jetstream::Context, Failure> {
        let (initial, max) = (self.options.initial_backoff, self.options.max_backoff);
        let shared = Arc::clone(&self.shared);
        let client = ConnectOptions::new()
            .name(CLIENT_NAME)
            .connection_timeout(self.options.connect_timeout)
            .request_timeout(Some(self.options.ack_timeout))
            .max_reconnects(None)
            .reconnect_delay_callback(move |attempts| {
                backoff::delay(initial, max, u32::try_from(attempts).unwrap_or(u32::MAX))
            })
            .event_callback(move |event| {
                let shared = Arc::clone(&shared);
                async move {
                    match event {
                        Event::Connected => {
                            info!(publisher = %shared.id, "lifecycle event publisher connected to NATS");
                            shared.connected.notify_one();
                        }
                        Event::Disconnected => {
                            warn!(publisher = %shared.id, "lifecycle event publisher disconnected from NATS");
                        }
                        other => debug!(publisher = %shared.id, event = %other, "NATS client event"),
                    }
                }
            })
            .connect(self.servers.clone())
            .await
            .map_err(|err| Failure::Retry {
                stage: "connecting",
                error: err.to_string(),
            })?;
        let mut context = async_nats::jetstream::new(client);
        context.set_timeout(self.options.ack_timeout);
        Ok(context)
    }

    /// The stream created when missing.
    fn stream_config(&self) -> StreamConfig {
        StreamConfig {
            name: self.options.stream.clone(),
            description: Some(
                "Lifecycle events of DynamoGraphDeployments, published by the Dynamo operator"
                    .to_string(),
            ),
            subjects: vec![STREAM_SUBJECTS.to_string()],
            max_age: self.options.stream_max_age,
            max_bytes: self.options.stream_max_bytes,
            duplicate_window: self.options.duplicate_window,
            storage: StorageType::File,
            discard: DiscardPolicy::Old,
            num_replicas: 1,
            ..StreamConfig::default()
        }
    }
}
