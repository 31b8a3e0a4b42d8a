//! Unit tests of the parts that need no NATS server: subjects, JSON, options, backoff, the
//! queue, address parsing, and a publisher facing a closed port.

use std::time::{Duration, Instant};

use crate::backoff::{Backoff, delay};
use crate::event::{MAX_TEXT_BYTES, truncate};
use crate::publisher::parse_servers;
use crate::queue::{Queue, Rejected};
use crate::{Error, LifecycleEvent, Publisher, PublisherOptions, STREAM, Transition, subject};

#[test]
fn subject_is_prefix_namespace_graph() {
    assert_eq!(
        subject("prod", "llama"),
        "dynamo.operator.events.prod.llama"
    );
}

#[test]
fn subject_writes_dots_of_the_graph_as_underscores() {
    assert_eq!(
        subject("prod", "llama.v2.large"),
        "dynamo.operator.events.prod.llama_v2_large"
    );
}

#[test]
fn subject_never_holds_wildcards_whitespace_or_empty_tokens() {
    assert_eq!(
        subject("", "a b*c>d\te"),
        "dynamo.operator.events._.a_b_c_d_e"
    );
    assert_eq!(subject("ns.x", ""), "dynamo.operator.events.ns_x._");
}

#[test]
fn stream_captures_every_subject() {
    assert_eq!(STREAM, "DYNAMO_OPERATOR_EVENTS");
    assert!(subject("a", "b").starts_with(crate::STREAM_SUBJECTS.trim_end_matches('>')));
}

#[test]
fn transitions_are_snake_case_in_json() {
    let names: Vec<String> = Transition::ALL
        .iter()
        .map(|transition| serde_json::to_string(transition).unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "\"created\"",
            "\"rendering_failed\"",
            "\"updating\"",
            "\"ready\"",
            "\"degraded\"",
            "\"deleted\""
        ]
    );
    for transition in Transition::ALL {
        assert_eq!(
            format!("\"{transition}\""),
            serde_json::to_string(&transition).unwrap_or_default()
        );
        let back: Transition = serde_json::from_str(&format!("\"{}\"", transition.as_str()))
            .unwrap_or(Transition::Created);
        assert_eq!(back, transition);
    }
}

#[test]
fn event_is_camel_case_json_without_unset_fields() -> Result<(), serde_json::Error> {
    let event = LifecycleEvent::new(Transition::RenderingFailed, "prod", "llama")
        .with_uid("6f1c")
        .with_generation(4)
        .with_reason("InvalidSpec")
        .with_message("spec.services.worker: unknown backend");
    let json = serde_json::to_value(&event)?;
    let object = json.as_object().map(|o| o.len()).unwrap_or_default();
    assert_eq!(object, 10, "{json}");
    assert_eq!(json["transition"], "rendering_failed");
    assert_eq!(json["namespace"], "prod");
    assert_eq!(json["graph"], "llama");
    assert_eq!(json["uid"], "6f1c");
    assert_eq!(json["generation"], 4);
    assert_eq!(json["reason"], "InvalidSpec");
    assert_eq!(json["message"], "spec.services.worker: unknown backend");
    assert_eq!(json["publisher"], "");
    assert_eq!(json["sequence"], 0);

    let bare = serde_json::to_value(LifecycleEvent::new(Transition::Ready, "prod", "llama"))?;
    for absent in ["uid", "generation", "reason", "message"] {
        assert!(bare.get(absent).is_none(), "{absent} in {bare}");
    }
    let back: LifecycleEvent = serde_json::from_value(json)?;
    assert_eq!(back, event);
    Ok(())
}

#[test]
fn event_time_is_rfc3339_utc_with_milliseconds() {
    let time = LifecycleEvent::new(Transition::Created, "a", "b").time;
    assert_eq!(time.len(), "2026-05-01T12:00:00.123Z".len(), "{time}");
    assert!(time.ends_with('Z'), "{time}");
    let parsed: Result<jiff::Timestamp, _> = time.parse();
    assert!(parsed.is_ok(), "{time}");
}

#[test]
fn long_text_is_cut_at_a_character_boundary() {
    assert_eq!(truncate("short".to_string(), 10), "short");
    let cut = truncate("ééééé".to_string(), 7);
    assert!(cut.len() <= 7, "{cut}");
    assert_eq!(cut, "éé…");
    let event = LifecycleEvent::new(Transition::Degraded, "a", "b")
        .with_message("x".repeat(MAX_TEXT_BYTES * 2))
        .with_reason("y".repeat(MAX_TEXT_BYTES + 1));
    assert!(
        event
            .message
            .as_ref()
            .is_some_and(|m| m.len() <= MAX_TEXT_BYTES)
    );
    assert!(
        event
            .reason
            .as_ref()
            .is_some_and(|r| r.len() <= MAX_TEXT_BYTES)
    );
}

#[test]
fn backoff_doubles_up_to_the_cap_and_resets() {
    let (initial, max) = (Duration::from_millis(200), Duration::from_secs(30));
    let waits: Vec<u128> = (0..10)
        .map(|n| delay(initial, max, n).as_millis())
        .collect();
    assert_eq!(
        waits,
        [0, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000]
    );
    assert_eq!(delay(initial, max, u32::MAX), max);

    let mut backoff = Backoff::new(initial, max);
    assert_eq!(backoff.fail(), initial);
    assert_eq!(backoff.fail(), initial * 2);
    assert_eq!(backoff.succeed(), 2);
    assert_eq!(backoff.fail(), initial);
}

#[test]
fn default_options_are_valid_and_documented_values() {
    let options = PublisherOptions::default();
    assert!(options.validate().is_ok());
    assert_eq!(options.buffer, 1024);
    assert_eq!(options.initial_backoff, Duration::from_millis(200));
    assert_eq!(options.max_backoff, Duration::from_secs(30));
    assert_eq!(options.stream, STREAM);
    assert_eq!(options.stream_max_age, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(options.stream_max_bytes, 128 * 1024 * 1024);
    assert_eq!(options.duplicate_window, Duration::from_secs(120));
}

#[test]
fn out_of_range_options_are_refused() {
    let refused = [
        PublisherOptions::default().buffer(0),
        PublisherOptions::default().initial_backoff(Duration::ZERO),
        PublisherOptions::default()
            .initial_backoff(Duration::from_secs(2))
            .max_backoff(Duration::from_secs(1)),
        PublisherOptions::default().ack_timeout(Duration::ZERO),
        PublisherOptions::default().connect_timeout(Duration::ZERO),
        PublisherOptions::default().stream_max_bytes(0),
        PublisherOptions::default().duplicate_window(Duration::ZERO),
        PublisherOptions::default()
            .stream_max_age(Duration::from_secs(60))
            .duplicate_window(Duration::from_secs(120)),
        PublisherOptions::default().stream("dynamo.events"),
        PublisherOptions::default().stream("EVENTS>"),
        PublisherOptions::default().stream(""),
    ];
    for options in refused {
        assert!(
            matches!(options.validate(), Err(Error::Options(_))),
            "{options:?}"
        );
    }
}

#[test]
fn addresses_parse_as_nats_urls() {
    let servers = parse_servers("nats://nats.dynamo:4222, tls://b:4443,c").map(|s| s.len());
    assert!(matches!(servers, Ok(3)), "{servers:?}");
    for bad in [
        "",
        " , ",
        "http://nats:4222",
        "ws://nats:80",
        "nats://:4222",
        "nats://a b",
    ] {
        assert!(
            matches!(parse_servers(bad), Err(Error::Address { .. })),
            "{bad:?} was accepted"
        );
    }
}

#[test]
fn queue_numbers_events_and_drops_new_ones_when_full() {
    let mut queue = Queue::new(2, "p1".to_string());
    let event = |graph: &str| LifecycleEvent::new(Transition::Updating, "ns", graph);
    assert_eq!(queue.push(event("a")).ok(), Some(1));
    assert_eq!(queue.push(event("b.c")).ok(), Some(2));
    let full = queue.push(event("d"));
    assert!(
        matches!(&full, Err(refused) if refused.sequence == 3 && matches!(refused.reason, Rejected::Full)),
        "{full:?}"
    );
    assert_eq!(queue.len(), 2);

    let head = queue.front();
    let head = head.as_deref();
    assert_eq!(head.map(|h| h.sequence), Some(1));
    assert_eq!(head.map(|h| h.message_id.as_str()), Some("p1-1"));
    assert_eq!(
        head.map(|h| h.subject.as_str()),
        Some("dynamo.operator.events.ns.a")
    );
    let payload: Option<serde_json::Value> =
        head.and_then(|h| serde_json::from_slice(&h.payload).ok());
    assert_eq!(
        payload.as_ref().map(|p| &p["sequence"]),
        Some(&serde_json::json!(1))
    );
    assert_eq!(
        payload.as_ref().map(|p| &p["publisher"]),
        Some(&serde_json::json!("p1"))
    );

    assert!(!queue.pop_acknowledged(2), "only the head is popped");
    assert!(queue.pop_acknowledged(1));
    assert_eq!(
        queue.push(event("e")).ok(),
        Some(4),
        "a dropped event used up its number"
    );
    assert_eq!(
        queue.front().map(|h| h.subject.clone()).as_deref(),
        Some("dynamo.operator.events.ns.b_c")
    );

    queue.close();
    assert!(matches!(
        queue.push(event("f")),
        Err(refused) if matches!(refused.reason, Rejected::Closed)
    ));
    assert_eq!(queue.abandon(), 2);
    assert_eq!(queue.len(), 0);
}

#[test]
fn publisher_ids_differ() {
    let ids: std::collections::BTreeSet<String> =
        (0..100).map(|_| crate::id::new_publisher_id()).collect();
    assert_eq!(ids.len(), 100);
    assert!(ids.iter().all(|id| id.len() == 16));
}

#[test]
fn start_outside_a_tokio_runtime_is_an_error() {
    let started = Publisher::start("nats://127.0.0.1:4222", PublisherOptions::default());
    assert!(matches!(started, Err(Error::NoRuntime)), "{started:?}");
}

#[tokio::test]
async fn start_refuses_bad_addresses_and_options() {
    let bad_address = Publisher::start("http://nats", PublisherOptions::default());
    assert!(
        matches!(bad_address, Err(Error::Address { .. })),
        "{bad_address:?}"
    );
    let bad_options = Publisher::start("nats://nats", PublisherOptions::default().buffer(0));
    assert!(
        matches!(bad_options, Err(Error::Options(_))),
        "{bad_options:?}"
    );
}

/// A closed local port: connecting fails at once, the closest to "NATS is down" without a
/// server.
#[tokio::test]
async fn unreachable_nats_neither_fails_start_nor_blocks_publish() -> Result<(), Error> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|err| Error::Options(err.to_string()))?;
    let options = PublisherOptions::default()
        .buffer(3)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(20));
    let publisher = Publisher::start(&format!("nats://127.0.0.1:{port}"), options)?;
    let started = Instant::now();
    let sequences: Vec<Option<u64>> = (0..5)
        .map(|n| {
            publisher.publish(LifecycleEvent::new(
                Transition::Created,
                "ns",
                format!("g{n}"),
            ))
        })
        .collect();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(sequences, [Some(1), Some(2), Some(3), None, None]);

    tokio::time::sleep(Duration::from_millis(100)).await;
    let stats = publisher.stats();
    assert_eq!((stats.published, stats.dropped, stats.queued), (0, 2, 3));
    assert!(stats.retries >= 1, "{stats:?}");

    let stats = publisher.clone().shutdown(Duration::from_millis(50)).await;
    assert_eq!((stats.published, stats.dropped, stats.queued), (0, 5, 0));
    assert_eq!(
        publisher.publish(LifecycleEvent::new(Transition::Deleted, "ns", "g")),
        None
    );
    assert_eq!(publisher.stats().dropped, 6);
    Ok(())
}
