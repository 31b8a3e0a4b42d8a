//! The bounded FIFO between `publish` and the sender task.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use crate::event::LifecycleEvent;
use crate::subject::subject;

/// A queued event, ready to send.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// The event's [`LifecycleEvent::sequence`].
    pub(crate) sequence: u64,
    /// Where it goes.
    pub(crate) subject: String,
    /// Its `Nats-Msg-Id`: `<publisher>-<sequence>`, the same on every resend.
    pub(crate) message_id: String,
    /// The event as JSON.
    pub(crate) payload: Bytes,
}

/// An event that was not queued, and why.
#[derive(Debug)]
pub(crate) struct Refused {
    /// The number the event used up.
    pub(crate) sequence: u64,
    /// Why it was refused.
    pub(crate) reason: Rejected,
    /// The event, for the log.
    pub(crate) event: Box<LifecycleEvent>,
}

/// Why an event was not queued.
#[derive(Debug)]
pub(crate) enum Rejected {
    /// The queue holds `capacity` events already.
    Full,
    /// The publisher was shut down.
    Closed,
    /// The event could not be written as JSON.
    Json(serde_json::Error),
}

/// Events waiting to be sent, oldest first, at most `capacity` of them.
///
/// The head stays queued until the stream acknowledged it, so the bound counts the event being
/// sent too.
#[derive(Debug)]
pub(crate) struct Queue {
    entries: VecDeque<Arc<Outgoing>>,
    capacity: usize,
    publisher: String,
    next_sequence: u64,
    closed: bool,
}

impl Queue {
    /// An empty queue of `capacity` events for publisher `publisher`.
    pub(crate) fn new(capacity: usize, publisher: String) -> Self {
        Queue {
            entries: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            publisher,
            next_sequence: 1,
            closed: false,
        }
    }

    /// Numbers `event` and queues it at the tail; a rejected event uses up its number too.
    pub(crate) fn push(&mut self, mut event: LifecycleEvent) -> Result<u64, Refused> {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let refuse = |reason, event| {
            Err(Refused {
                sequence,
                reason,
                event: Box::new(event),
            })
        };
        if self.closed {
            return refuse(Rejected::Closed, event);
        }
        if self.entries.len() >= self.capacity {
            return refuse(Rejected::Full, event);
        }
        event.sequence = sequence;
        event.publisher.clone_from(&self.publisher);
        event.bound_text();
        let payload = match serde_json::to_vec(&event) {
            Ok(payload) => payload,
            Err(err) => return refuse(Rejected::Json(err), event),
        };
        self.entries.push_back(Arc::new(Outgoing {
            sequence,
            subject: subject(&event.namespace, &event.graph),
            message_id: format!("{}-{}", self.publisher, sequence),
            payload: Bytes::from(payload),
        }));
        Ok(sequence)
    }

    /// The oldest queued event.
    pub(crate) fn front(&self) -> Option<Arc<Outgoing>> {
        self.entries.front().cloned()
    }

    /// Removes the head once it was acknowledged, if it is still event `sequence`.
    pub(crate) fn pop_acknowledged(&mut self, sequence: u64) -> bool {
        if self.entries.front().map(|head| head.sequence) == Some(sequence) {
            self.entries.pop_front();
            true
        } else {
            false
        }
    }

    /// How many events wait.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Refuses every later event.
    pub(crate) fn close(&mut self) {
        self.closed = true;
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Empties the queue, returning how many events were in it.
    pub(crate) fn abandon(&mut self) -> usize {
        let abandoned = self.entries.len();
        self.entries.clear();
        abandoned
    }
}
