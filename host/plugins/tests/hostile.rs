//! A misbehaving plugin is contained: each misbehaviour yields its typed error within the bound,
//! and the runtime keeps serving good plugins afterwards.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{echo, hostile, input, load_hostile, runtime};
use dynamo_plugin_runtime::contract::PluginError as ContractError;
use dynamo_plugin_runtime::{PluginError, PluginOrigin, PluginRuntime};

/// Renders service `service` with the hostile plugin, then checks that echo still works.
fn render_hostile(service: &str) -> (PluginError, Duration) {
    let plugin = hostile();
    let start = Instant::now();
    let result = plugin.render(&input(service));
    let elapsed = start.elapsed();
    let error = result.expect_err("the hostile plugin must fail");
    assert_eq!(error.plugin(), Some("hostile"), "{error}");
    assert_eq!(error.component(), Some(service), "{error}");
    // The same runtime (and the same hostile plugin) keep working.
    let out = echo()
        .render(&input("after"))
        .expect("echo renders after a hostile call");
    assert!(
        out.pod_template
            .contains("echo.plugins.dynamo.nvidia.com/service")
    );
    assert!(
        plugin.render(&input("fine")).is_ok(),
        "hostile's good path still works"
    );
    (error, elapsed)
}

#[test]
fn infinite_loop_times_out() {
    let (error, elapsed) = render_hostile("loop");
    assert!(
        matches!(error, PluginError::Timeout { deadline, .. } if deadline == Duration::from_millis(100)),
        "{error}"
    );
    assert!(error.is_trap());
    assert!(elapsed < SLACK, "took {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(100),
        "stopped early: {elapsed:?}"
    );
}

/// Upper bound on how long a stopped call may take. The misbehaviours never end on their own, so
/// finishing at all shows the bound worked; the slack only keeps a loaded CI machine from flaking.
const SLACK: Duration = Duration::from_secs(5);

#[test]
fn allocation_until_failure_is_out_of_memory() {
    let (error, elapsed) = render_hostile("oom");
    assert!(
        matches!(error, PluginError::OutOfMemory { limit, .. } if limit == 64 << 20),
        "{error}"
    );
    assert!(elapsed < SLACK, "took {elapsed:?}");
}

#[test]
fn panic_is_a_trap_with_its_message() {
    let (error, _) = render_hostile("trap");
    match &error {
        PluginError::Trap { output, .. } => {
            assert!(
                output.contains("hostile plugin panics on purpose"),
                "{output}"
            );
        }
        other => panic!("expected a trap, got {other}"),
    }
    assert!(error.to_string().contains("panics on purpose"), "{error}");
    // validate traps too, and is reported the same way.
    let error = hostile()
        .validate(&input("trap"))
        .expect_err("validate traps");
    assert!(matches!(error, PluginError::Trap { .. }), "{error}");
}

#[test]
fn non_json_output_is_malformed() {
    let (error, _) = render_hostile("bad-json");
    assert!(
        matches!(error, PluginError::MalformedOutput { .. }),
        "{error}"
    );
}

#[test]
fn namespace_change_is_forbidden() {
    let (error, _) = render_hostile("bad-namespace");
    assert!(
        matches!(&error, PluginError::ForbiddenChange { field, .. } if field == "metadata.namespace"),
        "{error}"
    );
}

#[test]
fn host_network_is_forbidden() {
    let (error, _) = render_hostile("host-network");
    assert!(
        matches!(&error, PluginError::ForbiddenChange { field, .. } if field == "spec.hostNetwork"),
        "{error}"
    );
}

#[test]
fn privileged_container_is_forbidden() {
    let (error, _) = render_hostile("privileged");
    assert!(
        matches!(&error, PluginError::ForbiddenChange { field, .. } if field == "spec.containers[main].securityContext.privileged"),
        "{error}"
    );
}

#[test]
fn foreign_config_map_is_forbidden() {
    let (error, _) = render_hostile("foreign-config");
    assert!(
        matches!(&error, PluginError::ForbiddenChange { field, .. } if field == "extraObjects[0].metadata.namespace"),
        "{error}"
    );
}

#[test]
fn plugin_errors_are_not_traps() {
    let (error, _) = render_hostile("plugin-error");
    assert!(
        matches!(&error, PluginError::Plugin { error: ContractError::Unsupported(m), .. } if m.contains("politely")),
        "{error}"
    );
    assert!(!error.is_trap());
}

#[test]
fn sleeping_is_refused_at_once() {
    let (error, elapsed) = render_hostile("sleep");
    assert!(
        matches!(&error, PluginError::Trap { message, .. } if message.contains("sleep")),
        "{error}"
    );
    assert!(elapsed < SLACK, "took {elapsed:?}");
}

/// The hostile plugin on a runtime with a 10 s deadline, for the stderr tests: a thousand stderr
/// writes through a debug-built host can outlast the default 100 ms on a loaded machine, and these
/// tests are about the output bound, not the clock.
fn patient_hostile() -> &'static dynamo_plugin_runtime::LoadedPlugin {
    static RUNTIME: OnceLock<PluginRuntime> = OnceLock::new();
    static PLUGIN: OnceLock<dynamo_plugin_runtime::LoadedPlugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        load_hostile(RUNTIME.get_or_init(|| {
            PluginRuntime::new(common::config().deadline(Duration::from_secs(10))).expect("runtime")
        }))
    })
}

#[test]
fn stderr_capture_is_bounded() {
    let error = patient_hostile()
        .render(&input("spam"))
        .expect_err("spam panics after writing");
    match &error {
        PluginError::Trap { output, .. } => assert!(output.len() <= 4096, "{}", output.len()),
        other => panic!("expected a trap, got {other}"),
    }
}

#[test]
fn a_chatty_plugin_is_not_killed_for_its_stderr() {
    let out = patient_hostile()
        .render(&input("chatty"))
        .expect("1 MiB of stderr is dropped, not a trap");
    assert!(out.pod_template.contains("chatty"));
}

#[test]
fn an_output_over_the_limit_stops_while_being_copied() {
    let (error, elapsed) = render_hostile("huge");
    assert!(
        matches!(&error, PluginError::OutputTooLarge { what, limit, .. } if what == "output bytes" && *limit == 1 << 20),
        "{error}"
    );
    assert!(elapsed < SLACK, "took {elapsed:?}");
}

#[test]
fn the_sandbox_grants_nothing_and_is_deterministic() {
    let render = || {
        hostile()
            .render(&input("escape"))
            .expect("escape renders")
            .warnings
    };
    let first = render();
    assert_eq!(
        &first[..4],
        ["file: false", "env: 0", "net: false", "now: 0"],
        "{first:?}"
    );
    assert_eq!(
        first,
        render(),
        "fixed clock and randomness make renders reproducible"
    );
}

#[test]
fn wrong_contract_version_is_rejected() {
    let error = runtime()
        .load(
            PluginOrigin::Bytes("wrong-version fixture".into()),
            dynamo_plugin_test_fixtures::wrong_version(),
        )
        .expect_err("9.0.0 is not served");
    match &error {
        PluginError::VersionMismatch {
            expected, found, ..
        } => {
            assert_eq!(
                expected,
                "dynamo:backend@0.1.0 or dynamo:backend@0.2.0 or dynamo:backend@0.3.0"
            );
            assert_eq!(found.as_deref(), Some("9.0.0"), "{error}");
        }
        other => panic!("expected a version mismatch, got {other}"),
    }
}

#[test]
fn garbage_is_a_compile_error() {
    for bytes in [&b"not wasm"[..], b"\0asm\x01\0\0\0garbage", b""] {
        let error = runtime()
            .load(PluginOrigin::Bytes("garbage".into()), bytes)
            .expect_err("not a component");
        assert!(matches!(error, PluginError::Compile { .. }), "{error}");
    }
}

#[test]
fn calls_from_inside_a_tokio_runtime_work() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let out = rt.block_on(async { echo().render(&input("in-async")) });
    assert!(out.expect("renders").pod_template.contains("in-async"));
    let error = rt.block_on(async { hostile().render(&input("trap")) });
    assert!(matches!(error, Err(PluginError::Trap { .. })));
}

#[test]
fn concurrent_calls_are_isolated() {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    let service = if i % 2 == 0 {
                        format!("svc-{i}")
                    } else {
                        "loop".to_owned()
                    };
                    (service.clone(), hostile().render(&input(&service)))
                })
            })
            .collect();
        for h in handles {
            let (service, result) = h.join().expect("thread");
            if service == "loop" {
                assert!(matches!(result, Err(PluginError::Timeout { .. })));
            } else {
                let out = result.expect("good render");
                assert!(out.pod_template.contains(&service));
            }
        }
    });
}

#[test]
fn stats_count_calls_traps_and_errors() {
    use dynamo_plugin_runtime::CallKind;
    // A plugin of its own: the shared one is called by the other tests at the same time. No
    // infinite loop here: another 100 ms of spinning would slow the deadline-sensitive tests
    // running alongside (the stats' unit tests cover how a timeout is counted).
    let plugin = runtime()
        .load(
            PluginOrigin::Bytes("hostile fixture".into()),
            dynamo_plugin_test_fixtures::hostile(),
        )
        .expect("hostile loads");
    for service in ["fine", "trap", "oom", "plugin-error", "host-network"] {
        let _ = plugin.render(&input(service));
    }
    let _ = plugin.validate(&input("fine"));
    let stats = plugin.stats().snapshot();
    let calls = |kind| stats.call(kind).map_or(0, |c| c.count);
    assert_eq!(calls(CallKind::Metadata), 1, "{stats:?}");
    assert_eq!(calls(CallKind::Render), 5, "{stats:?}");
    assert_eq!(calls(CallKind::Validate), 1, "{stats:?}");
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert_eq!(stats.traps, 1, "{stats:?}");
    assert_eq!(stats.out_of_memory, 1, "{stats:?}");
    // The two above, the plugin's own error and the forbidden output.
    assert_eq!(stats.errors, 4, "{stats:?}");
    let render = stats.call(CallKind::Render).expect("render counters");
    assert!(render.duration > Duration::ZERO, "{render:?}");
    assert_eq!(render.buckets.iter().sum::<u64>(), 5);
}
