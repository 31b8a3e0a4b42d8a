//! Unit tests of the plugin call counters.

use super::*;

fn timeout() -> PluginError {
    PluginError::Timeout {
        plugin: "p".into(),
        component: "c".into(),
        deadline: Duration::from_millis(100),
    }
}

#[test]
fn counts_calls_by_kind_and_outcome() {
    let stats = PluginStats::default();
    stats.record(CallKind::Render, Duration::from_micros(30), None);
    stats.record(CallKind::Render, Duration::from_millis(3), None);
    stats.record(CallKind::Render, Duration::from_secs(10), Some(&timeout()));
    stats.record(
        CallKind::Validate,
        Duration::from_micros(700),
        Some(&PluginError::OutOfMemory {
            plugin: "p".into(),
            component: "c".into(),
            limit: 1,
        }),
    );
    stats.record(
        CallKind::Validate,
        Duration::from_micros(700),
        Some(&PluginError::Trap {
            plugin: "p".into(),
            component: "c".into(),
            message: "unreachable".into(),
            backtrace: String::new(),
            output: String::new(),
        }),
    );
    stats.record(
        CallKind::Metadata,
        Duration::from_micros(700),
        Some(&PluginError::Runtime {
            plugin: "p".into(),
            component: "c".into(),
            message: "busy".into(),
        }),
    );
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.total_calls(), 6);
    assert_eq!(snapshot.errors, 4);
    assert_eq!(snapshot.timeouts, 1);
    assert_eq!(snapshot.traps, 1);
    assert_eq!(snapshot.out_of_memory, 1);

    let render = snapshot.call(CallKind::Render).expect("render counters");
    assert_eq!(render.count, 3);
    assert_eq!(render.buckets.len(), DURATION_BUCKETS.len() + 1);
    assert_eq!(render.buckets.iter().sum::<u64>(), 3);
    assert_eq!(render.buckets[0], 1, "30 µs is in the first bucket");
    assert_eq!(render.buckets[BUCKETS - 1], 1, "10 s is past every bound");
    assert_eq!(
        render.duration,
        Duration::from_micros(30) + Duration::from_millis(3) + Duration::from_secs(10)
    );
    let bounds: Vec<(f64, u64)> = render.bucket_bounds().collect();
    assert_eq!(bounds.len(), BUCKETS);
    assert_eq!(bounds.last().map(|b| b.0), Some(f64::INFINITY));
    assert_eq!(snapshot.call(CallKind::Validate).map(|c| c.count), Some(2));
}

#[test]
fn a_bound_is_inclusive() {
    let stats = PluginStats::default();
    stats.record(CallKind::Render, Duration::from_millis(1), None);
    let snapshot = stats.snapshot();
    let render = snapshot.call(CallKind::Render).expect("render counters");
    let index = DURATION_BUCKETS
        .iter()
        .position(|b| *b == 0.001)
        .expect("a 1 ms bucket");
    assert_eq!(render.buckets[index], 1);
}
