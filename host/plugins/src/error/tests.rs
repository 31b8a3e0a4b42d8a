use super::*;

#[test]
fn byte_counts_read_as_they_are_configured() {
    let shown = |n: usize| Bytes(n).to_string();
    assert_eq!(shown(64 << 20), "64 MiB");
    assert_eq!(shown(2 << 30), "2 GiB");
    assert_eq!(shown(1536), "1536 bytes");
    assert_eq!(shown(3 << 10), "3 KiB");
    assert_eq!(shown((64 << 20) + 1), "67108865 bytes");
    assert_eq!(shown(0), "0 bytes");
}

#[test]
fn out_of_memory_names_the_limit_in_units() {
    let error = PluginError::OutOfMemory {
        plugin: "acme".into(),
        component: "engine".into(),
        limit: 64 << 20,
    };
    assert_eq!(
        error.to_string(),
        "plugin acme ran out of memory (limit 64 MiB) on engine"
    );
}
