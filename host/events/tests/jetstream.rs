//! The publisher against a real `nats-server -js`: order per graph, subjects and JSON, NATS down
//! at start, a server crash while publishing, the buffer bound, and a lost stream.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dynamo_events::{LifecycleEvent, Publisher, PublisherOptions, STREAM, Transition, subject};

use support::{Stored, TestResult, Workdir, read_stream, wait_published};

/// Options that retry quickly, so that recoveries fit in a short test.
fn fast_options() -> PublisherOptions {
    PublisherOptions::default()
        .initial_backoff(Duration::from_millis(50))
        .max_backoff(Duration::from_millis(500))
        .connect_timeout(Duration::from_secs(1))
        .ack_timeout(Duration::from_secs(1))
}

/// The `i`th event of the test pattern: graphs `alpha` and `beta.v2` (a dotted name) in turn,
/// each walking through the transitions.
fn pattern_event(i: usize) -> LifecycleEvent {
    let graph = if i.is_multiple_of(2) {
        "alpha"
    } else {
        "beta.v2"
    };
    let transition = Transition::ALL[(i / 2) % Transition::ALL.len()];
    LifecycleEvent::new(transition, "team-a", graph)
        .with_uid(format!("uid-{graph}"))
        .with_generation(i64::try_from(i).unwrap_or(i64::MAX))
}

/// The publisher sequences found in the stream, in stream order.
fn sequences(stored: &[Stored]) -> Vec<u64> {
    stored
        .iter()
        .map(|message| message.event.sequence)
        .collect()
}

/// Checks that `stored` is exactly events 1..=`count` of `publisher`, in order, each on its
/// graph's subject with its `Nats-Msg-Id`, matching [`pattern_event`].
fn assert_pattern_delivered(stored: &[Stored], publisher: &Publisher, count: u64) {
    assert_eq!(
        sequences(stored),
        (1..=count).collect::<Vec<_>>(),
        "the stream must hold every event once, in publish order"
    );
    for message in stored {
        let event = &message.event;
        let i = usize::try_from(event.sequence - 1).unwrap_or(usize::MAX);
        let expected = pattern_event(i);
        assert_eq!(
            (&event.graph, event.transition, event.generation),
            (&expected.graph, expected.transition, expected.generation)
        );
        assert_eq!(event.publisher, publisher.id());
        assert_eq!(message.subject, subject(&event.namespace, &event.graph));
        assert_eq!(
            message.message_id.as_deref(),
            Some(format!("{}-{}", publisher.id(), event.sequence).as_str())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_in_order_per_graph_with_subject_and_fields() -> TestResult {
    let mut workdir = Workdir::new();
    let _server = workdir.start();
    let publisher = Publisher::start(&workdir.url(), fast_options())?;

    let mut published: BTreeMap<&str, Vec<(u64, Transition)>> = BTreeMap::new();
    let mut expected = Vec::new();
    for (i, transition) in Transition::ALL.iter().cycle().take(24).enumerate() {
        let graph = if i.is_multiple_of(3) {
            "llama.v2"
        } else {
            "mistral"
        };
        let mut event = LifecycleEvent::new(*transition, "prod", graph)
            .with_uid(format!("uid-{graph}"))
            .with_generation(7);
        if *transition == Transition::RenderingFailed {
            event = event
                .with_reason("InvalidSpec")
                .with_message("spec.services.worker: unknown backend");
        }
        expected.push(event.clone());
        let sequence = publisher.publish(event).ok_or("publish dropped an event")?;
        published
            .entry(graph)
            .or_default()
            .push((sequence, *transition));
    }
    let stats = publisher.shutdown(Duration::from_secs(10)).await;
    assert_eq!(
        (stats.published, stats.dropped, stats.queued),
        (24, 0, 0),
        "{stats:?}"
    );

    let stored = read_stream(&workdir.url()).await?;
    assert_eq!(sequences(&stored), (1..=24).collect::<Vec<_>>());
    let mut delivered: BTreeMap<&str, Vec<(u64, Transition)>> = BTreeMap::new();
    for (message, expected) in stored.iter().zip(&expected) {
        let graph = if message.event.graph == "llama.v2" {
            "llama.v2"
        } else {
            "mistral"
        };
        delivered
            .entry(graph)
            .or_default()
            .push((message.event.sequence, message.event.transition));
        let want_subject = if graph == "llama.v2" {
            "dynamo.operator.events.prod.llama_v2"
        } else {
            "dynamo.operator.events.prod.mistral"
        };
        assert_eq!(message.subject, want_subject);
        assert_eq!(
            message.message_id.as_deref(),
            Some(format!("{}-{}", publisher.id(), message.event.sequence).as_str())
        );
        // Everything the caller set arrives unchanged; the publisher adds its id and the number.
        let mut sent = expected.clone();
        sent.publisher = publisher.id().to_string();
        sent.sequence = message.event.sequence;
        assert_eq!(message.event, sent);

        let json = message
            .json
            .as_object()
            .ok_or("an event is not a JSON object")?;
        let mut keys: Vec<&str> = json.keys().map(String::as_str).collect();
        keys.sort_unstable();
        if expected.transition == Transition::RenderingFailed {
            assert_eq!(
                keys,
                [
                    "generation",
                    "graph",
                    "message",
                    "namespace",
                    "publisher",
                    "reason",
                    "sequence",
                    "time",
                    "transition",
                    "uid"
                ]
            );
            assert_eq!(json["transition"], "rendering_failed");
            assert_eq!(json["reason"], "InvalidSpec");
        } else {
            assert_eq!(
                keys,
                [
                    "generation",
                    "graph",
                    "namespace",
                    "publisher",
                    "sequence",
                    "time",
                    "transition",
                    "uid"
                ]
            );
        }
        assert_eq!(json["transition"], expected.transition.as_str());
        assert_eq!(json["namespace"], "prod");
        assert_eq!(json["generation"], 7);
        let time = json["time"].as_str().ok_or("time is not a string")?;
        assert!(
            time.parse::<jiff::Timestamp>().is_ok() && time.ends_with('Z'),
            "{time}"
        );
    }
    assert_eq!(
        delivered, published,
        "per graph, the stream order is the publish order"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_queued_while_nats_is_down_are_delivered_once_it_starts() -> TestResult {
    let mut workdir = Workdir::new();
    let publisher = Publisher::start(&workdir.url(), fast_options())?;
    for i in 0..6 {
        assert_eq!(
            publisher.publish(pattern_event(i)),
            Some(u64::try_from(i)? + 1)
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = publisher.stats();
    assert_eq!(
        (stats.published, stats.dropped, stats.queued),
        (0, 0, 6),
        "{stats:?}"
    );
    assert!(stats.retries >= 1, "connecting was not retried: {stats:?}");

    let _server = tokio::task::block_in_place(|| workdir.start());
    let stats = wait_published(&publisher, 6, Duration::from_secs(15)).await;
    assert_eq!((stats.dropped, stats.queued), (0, 0), "{stats:?}");
    assert_pattern_delivered(&read_stream(&workdir.url()).await?, &publisher, 6);
    publisher.shutdown(Duration::from_secs(1)).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_crash_neither_blocks_publish_nor_loses_or_duplicates_events() -> TestResult {
    const EVENTS: usize = 150;
    let mut workdir = Workdir::new();
    let server = workdir.start();
    let publisher = Publisher::start(&workdir.url(), fast_options())?;

    // Publishing goes on, every 10 ms, through the crash and the restart.
    let publishing = {
        let publisher = publisher.clone();
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut accepted = 0;
            for i in 0..EVENTS {
                let started = Instant::now();
                if publisher.publish(pattern_event(i)).is_some() {
                    accepted += 1;
                }
                slowest = slowest.max(started.elapsed());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (accepted, slowest)
        })
    };

    wait_published(&publisher, 30, Duration::from_secs(10)).await;
    server.kill();
    let killed = publisher.stats();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let during = publisher.stats();
    assert!(
        during.queued > 0,
        "events must queue up while the server is down: {killed:?} then {during:?}"
    );
    let _server = tokio::task::block_in_place(|| workdir.start());

    let (accepted, slowest) = publishing.await?;
    assert_eq!(
        accepted, EVENTS,
        "the buffer was never full, so no event was dropped"
    );
    // A publish that waited on the server would take the 1 s connect or ack timeout; the margin
    // below that only absorbs a loaded machine descheduling the task.
    assert!(
        slowest < Duration::from_millis(500),
        "publish must return at once, even with the server down; the slowest took {slowest:?}"
    );
    let stats = wait_published(&publisher, EVENTS as u64, Duration::from_secs(20)).await;
    // Retries are likely but not certain: an event sent while the client is disconnected waits
    // in the client and goes out on reconnect, within its ack timeout.
    assert_eq!((stats.dropped, stats.queued), (0, 0), "{stats:?}");

    let stored = read_stream(&workdir.url()).await?;
    assert_pattern_delivered(&stored, &publisher, EVENTS as u64);
    eprintln!(
        "crash test: slowest publish {slowest:?}, {} retries, {} events queued 700 ms after the kill",
        stats.retries, during.queued
    );
    publisher.shutdown(Duration::from_secs(1)).await;
    Ok(())
}

/// A frozen server (SIGSTOP) takes the publish in but answers only after the ack timeout, so the
/// publisher sends the event again; the `Nats-Msg-Id` makes the stream store it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_after_a_late_ack_is_stored_once() -> TestResult {
    let mut workdir = Workdir::new();
    let mut server = workdir.start();
    let options = fast_options()
        .ack_timeout(Duration::from_millis(300))
        .max_backoff(Duration::from_millis(100));
    let publisher = Publisher::start(&workdir.url(), options)?;
    publisher.publish(pattern_event(0));
    wait_published(&publisher, 1, Duration::from_secs(10)).await;

    server.freeze();
    for i in 1..4 {
        publisher.publish(pattern_event(i));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let frozen = publisher.stats();
    server.thaw();
    assert!(
        frozen.retries >= 2 && frozen.published == 1,
        "the frozen server must have cost resends: {frozen:?}, server log:\n{}",
        server.log()
    );
    let stats = wait_published(&publisher, 4, Duration::from_secs(10)).await;
    assert_eq!((stats.dropped, stats.queued), (0, 0), "{stats:?}");
    assert_pattern_delivered(&read_stream(&workdir.url()).await?, &publisher, 4);
    publisher.shutdown(Duration::from_secs(1)).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_drops_the_new_events_and_delivers_exactly_the_kept_ones() -> TestResult {
    let mut workdir = Workdir::new();
    let publisher = Publisher::start(&workdir.url(), fast_options().buffer(10))?;
    let results: Vec<Option<u64>> = (0..25)
        .map(|i| publisher.publish(pattern_event(i)))
        .collect();
    let kept: Vec<Option<u64>> = (1..=10).map(Some).collect();
    assert_eq!(results[..10], kept[..]);
    assert!(results[10..].iter().all(Option::is_none), "{results:?}");
    let stats = publisher.stats();
    assert_eq!(
        (stats.published, stats.dropped, stats.queued),
        (0, 15, 10),
        "{stats:?}"
    );

    let _server = tokio::task::block_in_place(|| workdir.start());
    wait_published(&publisher, 10, Duration::from_secs(15)).await;
    // Nothing else may follow the ten kept events.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = publisher.stats();
    assert_eq!(
        (stats.published, stats.dropped, stats.queued),
        (10, 15, 0),
        "{stats:?}"
    );
    assert_pattern_delivered(&read_stream(&workdir.url()).await?, &publisher, 10);
    publisher.shutdown(Duration::from_secs(1)).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_stream_is_created_again() -> TestResult {
    let mut workdir = Workdir::new();
    let _server = workdir.start();
    let publisher = Publisher::start(&workdir.url(), fast_options())?;
    publisher.publish(pattern_event(0));
    wait_published(&publisher, 1, Duration::from_secs(10)).await;

    let admin = async_nats::jetstream::new(async_nats::connect(workdir.url()).await?);
    admin.delete_stream(STREAM).await?;
    publisher.publish(pattern_event(1));
    let stats = wait_published(&publisher, 2, Duration::from_secs(10)).await;
    assert!(
        stats.retries >= 1,
        "the lost stream must have failed a publish: {stats:?}"
    );

    let stored = read_stream(&workdir.url()).await?;
    assert_eq!(
        sequences(&stored),
        [2],
        "the new stream holds the event published after"
    );
    let mut stream = admin.get_stream(STREAM).await?;
    let config = stream.info().await?.config.clone();
    assert_eq!(config.subjects, [dynamo_events::STREAM_SUBJECTS]);
    assert_eq!(config.max_age, Duration::from_secs(7 * 24 * 60 * 60));
    assert_eq!(config.max_bytes, 128 * 1024 * 1024);
    assert_eq!(config.duplicate_window, Duration::from_secs(120));
    publisher.shutdown(Duration::from_secs(1)).await;
    Ok(())
}
