//! The instance pool: warm slots are reused and their resident memory stays bounded.

mod common;

use common::{config, input, load_echo};
use dynamo_plugin_runtime::PluginRuntime;
use dynamo_plugin_runtime::engine::{MEMORY_KEEP_RESIDENT, TABLE_KEEP_RESIDENT};

#[test]
fn pool_stats_show_warm_slots_and_bounded_resident_memory() {
    let runtime = PluginRuntime::new(config()).expect("runtime");
    assert_eq!(runtime.pool_stats().warm_memory_slots, 0, "nothing ran yet");
    let echo = load_echo(&runtime); // calls `metadata` once
    for _ in 0..3 {
        echo.render(&input("decode")).expect("renders");
    }
    let stats = runtime.pool_stats();
    assert_eq!(stats.live_instances, 0, "every call's instance is gone");
    assert_eq!(
        stats.warm_memory_slots, 1,
        "sequential calls of one plugin reuse one slot: {stats:?}"
    );
    assert!(
        stats.resident_bytes <= MEMORY_KEEP_RESIDENT + TABLE_KEEP_RESIDENT,
        "{stats:?}"
    );
    if wasmtime::PoolingAllocationConfig::is_pagemap_scan_available() {
        assert!(stats.resident_bytes > 0, "dirty pages are kept: {stats:?}");
    } else {
        assert_eq!(stats.resident_bytes, 0, "{stats:?}");
    }
}
