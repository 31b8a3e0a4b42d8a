//! Render tests of the MPI launcher, on the TensorRT-LLM multi-node fixture as the backend hands
//! it over.

mod common;

use common::*;
use dynamo_plugin_mpi::scripts::{self, DNS_WAIT_TIMEOUT_SECONDS};
use dynamo_plugin_mpi::{ENTRYPOINT_WRAPPER_ANNOTATION, EXPORT_ENV_ANNOTATION, FORWARDED_ENV, Mpi};
use dynamo_plugin_sdk::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use dynamo_plugin_sdk::{
    ExtraObject, Plugin, PluginError, PluginKind, RenderInput, RenderOutput, Role,
};

const FIXTURE: &str = "trtllm-disagg-multinode.yaml";

const ENGINE: [&str; 11] = [
    "python3",
    "-m",
    "dynamo.trtllm",
    "--model-path",
    "Qwen/Qwen3-0.6B",
    "--served-model-name",
    "Qwen/Qwen3-0.6B",
    "--extra-engine-args",
    "/workspace/prefill.yaml",
    "--disaggregation-mode",
    "prefill",
];

const GROVE_ENV: [(&str, &str); 3] = [
    ("GROVE_PCSG_NAME", "trtllm-disagg-tp8"),
    ("GROVE_PCSG_INDEX", "0"),
    ("GROVE_HEADLESS_SERVICE", "trtllm-disagg-tp8-0"),
];

fn render(input: &RenderInput) -> RenderOutput {
    Mpi::render(input).expect("renders")
}

/// The fixture with the hand-off annotations a backend would set.
fn with_handoff(mut input: RenderInput, wrapper: &str, export: &str) -> RenderInput {
    let mut pod: serde_json::Value = serde_json::from_str(&input.pod_template).expect("json");
    pod["metadata"]["annotations"] = serde_json::json!({
        ENTRYPOINT_WRAPPER_ANNOTATION: wrapper,
        EXPORT_ENV_ANNOTATION: export,
    });
    input.pod_template = pod.to_string();
    input
}

/// Whether `sh` here runs as root (decides `--allow-run-as-root`).
fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn metadata_describes_a_launcher() {
    let m = Mpi::metadata();
    assert_eq!(m.name, "mpi");
    assert_eq!(m.kind, PluginKind::Launcher);
    assert!(m.frameworks.is_empty() && m.python_modules.is_empty());
    assert_eq!(m.multinode_launcher, None);
}

#[test]
fn single_node_passes_through() {
    let input = load_at(FIXTURE, Default::default());
    let out = render(&input);
    assert_eq!(out.pod_template, input.pod_template);
    assert!(out.extra_objects.is_empty() && out.warnings.is_empty());
}

#[test]
fn without_shared_memory_the_key_volume_goes_last() {
    let mut input = load_at(FIXTURE, lws(Role::Leader, 2));
    let mut template: serde_json::Value = serde_json::from_str(&input.pod_template).expect("json");
    let drop_shm = |list: &mut serde_json::Value| {
        if let Some(items) = list.as_array_mut() {
            items.retain(|v| v["name"] != "shared-memory");
        }
    };
    drop_shm(&mut template["spec"]["volumes"]);
    for c in template["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
    {
        drop_shm(&mut c["volumeMounts"]);
    }
    input.pod_template = template.to_string();
    let out = render(&input);
    let names: Vec<String> = pod(&out)
        .spec
        .expect("spec")
        .volumes
        .into_iter()
        .flatten()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["nvidia-config", "models", "mpi-run-ssh-secret"]);
}

#[test]
fn both_roles_mount_the_keys_and_keep_fqdn_host_names() {
    for placement in [grove(Role::Leader, "prefill", 2), lws(Role::Worker, 2)] {
        let out = render(&load_at(FIXTURE, placement));
        assert_eq!(
            out.extra_objects,
            vec![ExtraObject::SshKeySecret("mpi-run-ssh-secret".into())]
        );
        let spec = pod(&out).spec.expect("spec");
        let volume = spec
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == "mpi-run-ssh-secret")
            .expect("key volume");
        let secret = volume.secret.as_ref().expect("secret volume");
        assert_eq!(secret.secret_name.as_deref(), Some("mpi-run-ssh-secret"));
        assert_eq!(secret.default_mode, Some(0o644));
        // The user's volumes stay, in order; the key volume goes before the one at /dev/shm.
        let names: Vec<&str> = spec
            .volumes
            .iter()
            .flatten()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "nvidia-config",
                "models",
                "mpi-run-ssh-secret",
                "shared-memory"
            ]
        );

        let c = main(&out);
        let mount = c
            .volume_mounts
            .iter()
            .flatten()
            .find(|m| m.name == "mpi-run-ssh-secret")
            .expect("key mount");
        assert_eq!(
            (mount.mount_path.as_str(), mount.read_only),
            ("/ssh-pk", Some(true))
        );
        let fqdn = c
            .env
            .iter()
            .flatten()
            .find(|v| v.name == "OMPI_MCA_orte_keep_fqdn_hostnames")
            .expect("fqdn variable");
        assert_eq!(fqdn.value.as_deref(), Some("1"));
    }
}

#[test]
fn worker_runs_sshd_with_a_tcp_readiness_probe() {
    let c = main(&render(&load_at(
        FIXTURE,
        grove(Role::Worker, "prefill", 2),
    )));
    assert_eq!(script(&c), scripts::worker_script());
    assert!(c.liveness_probe.is_none() && c.startup_probe.is_none());
    let readiness = c.readiness_probe.expect("readiness");
    assert_eq!(
        readiness.tcp_socket.map(|t| t.port),
        Some(IntOrString::Int(2222))
    );
    assert_eq!(
        (
            readiness.initial_delay_seconds,
            readiness.period_seconds,
            readiness.timeout_seconds,
            readiness.failure_threshold
        ),
        (Some(20), Some(20), Some(5), Some(10))
    );
    assert!(readiness.http_get.is_none());
}

#[test]
fn leader_launches_mpirun_over_the_group() {
    let out = render(&load_at(FIXTURE, grove(Role::Leader, "prefill", 2)));
    let c = main(&out);
    let s = script(&c);
    assert!(
        s.starts_with(
            "set -e\nmkdir -p \"$HOME/.ssh\"\ncp /ssh-pk/private.key \"$HOME/.ssh/id_rsa\"\n"
        ),
        "{s}"
    );
    assert!(
        s.contains(
            "StrictHostKeyChecking no\\n    Port 2222\\n' \"$HOME\" > \"$HOME/.ssh/config\"\n"
        ),
        "{s}"
    );
    // Grove publishes not-ready addresses: no DNS wait.
    assert!(!s.contains("getent"), "{s}");

    let mut env: Vec<&str> = FORWARDED_ENV.to_vec();
    env.extend([
        "DYN_SYSTEM_ENABLED",
        "HF_HOME",
        "OMPI_ALLOW_RUN_AS_ROOT",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM",
        "OMPI_MCA_orte_keep_fqdn_hostnames",
    ]);
    env.sort_unstable();
    env.dedup();
    let x: Vec<String> = env.iter().map(|n| format!("-x {n}")).collect();
    let expected_tail = format!(
        "allow_root=\nif [ \"$(id -u)\" = 0 ]; then allow_root=--allow-run-as-root; fi\n\
         exec mpirun $allow_root --oversubscribe -n 8 \
         -H \"${{GROVE_PCSG_NAME}}-${{GROVE_PCSG_INDEX}}-prefill-ldr-0.${{GROVE_HEADLESS_SERVICE}}\",\
         \"${{GROVE_PCSG_NAME}}-${{GROVE_PCSG_INDEX}}-prefill-wkr-0.${{GROVE_HEADLESS_SERVICE}}\" \
         --mca pml ob1 --mca plm_rsh_args \"-p 2222 -o StrictHostKeyChecking=no -i $HOME/.ssh/id_rsa\" \
         {} bash -c '{}'\n",
        x.join(" "),
        ENGINE.join(" ")
    );
    assert_eq!(tail_from(&s, "allow_root="), expected_tail);
    // The leader serves: its probes stay.
    assert!(c.liveness_probe.is_some() && c.readiness_probe.is_some() && c.startup_probe.is_some());
}

#[test]
fn leader_runs_the_engine_on_every_rank() {
    let input = with_handoff(
        load_at(FIXTURE, grove(Role::Leader, "prefill", 2)),
        "trtllm-llmapi-launch",
        "",
    );
    let mut input = input;
    // An argument with JSON, quotes and spaces must reach every rank intact.
    let tricky = r#"{"kv_connector": "NixlConnector", "note": "it's \"quoted\" $HOME `x`"}"#;
    let mut pod: serde_json::Value = serde_json::from_str(&input.pod_template).expect("json");
    pod["spec"]["containers"][0]["args"]
        .as_array_mut()
        .expect("args")
        .extend([
            serde_json::json!("--override-engine-args"),
            serde_json::json!(tricky),
        ]);
    input.pod_template = pod.to_string();

    let s = script(&main(&render(&input)));
    let stubs = stubs(&["mpirun", "trtllm-llmapi-launch"]);
    let Some((code, words, stderr)) =
        run_script(&tail_from(&s, "allow_root="), &GROVE_ENV, stubs.path())
    else {
        return;
    };
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(words[0], "mpirun");
    let mut rest = &words[1..];
    if running_as_root() {
        assert_eq!(rest[0], "--allow-run-as-root");
        rest = &rest[1..];
    } else {
        assert_ne!(rest[0], "--allow-run-as-root");
    }
    assert_eq!(
        rest[..10],
        strings(&[
            "--oversubscribe",
            "-n",
            "8",
            "-H",
            "trtllm-disagg-tp8-0-prefill-ldr-0.trtllm-disagg-tp8-0,trtllm-disagg-tp8-0-prefill-wkr-0.trtllm-disagg-tp8-0",
            "--mca",
            "pml",
            "ob1",
            "--mca",
            "plm_rsh_args",
        ])[..]
    );
    assert_eq!(
        rest[10],
        "-p 2222 -o StrictHostKeyChecking=no -i /home/test/.ssh/id_rsa"
    );
    let (payload, before) = rest.split_last().expect("payload");
    assert_eq!(before[before.len() - 2..], strings(&["bash", "-c"])[..]);

    // What each rank runs: `bash -c <payload>`.
    let Some((code, ranks, stderr)) = run_script(
        &format!("bash -c {}", shell_quote(payload)),
        &[],
        stubs.path(),
    ) else {
        return;
    };
    assert_eq!(code, 0, "{stderr}");
    let mut expected = vec!["trtllm-llmapi-launch".to_owned()];
    expected.extend(strings(&ENGINE));
    expected.extend(strings(&["--override-engine-args", tricky]));
    assert_eq!(ranks, expected);
}

/// Single-quotes `word` for the test's own `sh -c` (no single quotes expected inside).
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[test]
fn lws_leader_waits_for_worker_dns() {
    let out = render(&load_at(FIXTURE, lws(Role::Leader, 3)));
    let s = script(&main(&out));
    let wait = tail_from(&s, "deadline=");
    assert!(
        wait.starts_with(&format!(
            "deadline=$(( $(date +%s) + {DNS_WAIT_TIMEOUT_SECONDS} ))\nfor host in \
             \"$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')\" \"$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-2./')\"; do\n"
        )),
        "{wait}"
    );
    assert!(s.contains("-n 12 -H \"${LWS_LEADER_ADDRESS}\",\"$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')\","), "{s}");

    // With the leader at `localhost.` the derived worker names resolve too.
    let stubs = stubs(&["mpirun"]);
    let env = [("LWS_LEADER_ADDRESS", "localhost")];
    if let Some((code, words, stderr)) = run_script(&wait, &env, stubs.path()) {
        assert_eq!(code, 0, "{stderr}");
        let at = words.iter().position(|w| w == "-H").expect("-H");
        assert_eq!(words[at + 1], "localhost,localhost,localhost");
    }
}

#[test]
fn dns_wait_gives_up() {
    let hosts = vec!["$(echo no-such-host.invalid)".to_owned()];
    let stubs = stubs(&[]);
    if let Some((code, _, stderr)) = run_script(&scripts::dns_wait(&hosts, 1), &[], stubs.path()) {
        assert_eq!(code, 1);
        assert!(
            stderr.contains("timed out after 1s waiting for DNS of no-such-host.invalid"),
            "{stderr}"
        );
    }
}

#[test]
fn handoff_wraps_the_engine_and_forwards_more_env() {
    let input = with_handoff(
        load_at(FIXTURE, grove(Role::Leader, "prefill", 2)),
        "trtllm-llmapi-launch --flag 'a b'",
        "TENSORRT_LLM_CACHE_DIR, TRTLLM_USE_UCX_KVCACHE,,PATH",
    );
    let out = render(&input);
    let s = script(&main(&out));
    assert!(s.contains(" -x TENSORRT_LLM_CACHE_DIR -x TOKENIZERS_PARALLELISM -x TRANSFORMERS_CACHE -x TRITON_PTXAS_PATH -x TRTLLM_USE_UCX_KVCACHE -x USER bash -c "), "{s}");
    assert_eq!(s.matches("-x PATH ").count(), 1, "{s}");
    assert!(
        s.ends_with(&format!(
            " bash -c \"trtllm-llmapi-launch --flag 'a b' {}\"\n",
            ENGINE.join(" ")
        )),
        "{s}"
    );
    // The hand-off annotations never reach the pod.
    assert!(pod(&out).metadata.expect("metadata").annotations.is_none());

    // Other annotations stay.
    let mut input = with_handoff(load_at(FIXTURE, lws(Role::Worker, 2)), "w", "");
    input.pod_template = input
        .pod_template
        .replace("\"annotations\":{", "\"annotations\":{\"keep\":\"me\",");
    let annotations = pod(&render(&input))
        .metadata
        .expect("metadata")
        .annotations
        .expect("annotations");
    assert_eq!(
        annotations.into_iter().collect::<Vec<_>>(),
        [("keep".to_owned(), "me".to_owned())]
    );
}

#[test]
fn errors_name_their_field() {
    let leader = || load_at(FIXTURE, grove(Role::Leader, "prefill", 2));

    let mut input = leader();
    input.component.gpus_per_node = 0;
    assert!(
        matches!(Mpi::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == "spec.services.prefill.resources.limits.gpu")
    );

    let mut input = leader();
    input.infrastructure.mpi_ssh_secret_name = " ".into();
    assert!(
        matches!(Mpi::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == "infrastructure.mpiSshSecretName")
    );

    let mut input = leader();
    input.pod_template = r#"{"spec":{"containers":[{"name":"main","image":"i"}]}}"#.into();
    assert!(
        matches!(Mpi::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == "spec.services.prefill.extraPodSpec.mainContainer.command")
    );

    let input = with_handoff(leader(), "unbalanced 'quote", "");
    assert!(
        matches!(Mpi::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == format!("podTemplate.metadata.annotations[{ENTRYPOINT_WRAPPER_ANNOTATION}]"))
    );

    let input = with_handoff(leader(), "", "A=1");
    assert!(
        matches!(Mpi::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path.contains(EXPORT_ENV_ANNOTATION))
    );

    let mut input = leader();
    input.pod_template = r#"{"spec":{"containers":[{"name":"sidecar"}]}}"#.into();
    assert!(
        matches!(Mpi::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == "podTemplate.spec.containers")
    );
}

#[test]
fn output_is_deterministic() {
    for placement in [
        grove(Role::Leader, "prefill", 2),
        lws(Role::Leader, 4),
        lws(Role::Worker, 2),
    ] {
        let input = load_at(FIXTURE, placement);
        assert_eq!(render(&input), render(&input));
    }
}

#[test]
fn worker_script_installs_keys_and_configures_sshd() {
    if !std::path::Path::new("/bin/sh").exists() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&keys).expect("keys dir");
    std::fs::write(keys.join("private.key"), "PRIVATE").expect("key");
    std::fs::write(keys.join("private.key.pub"), "PUBLIC").expect("pub");
    let bin = stubs(&["sshd"]);
    // ssh-keygen stub: writes the key file named after `-f`.
    let keygen = bin.path().join("ssh-keygen");
    std::fs::write(
        &keygen,
        "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -f ] && echo key > \"$2\"; shift; done\n",
    )
    .expect("stub");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keygen, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let script = scripts::worker_script()
        .replace("/ssh-pk", &keys.display().to_string())
        .replace("/usr/sbin/sshd", "sshd");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&script)
        .env("HOME", &home)
        .env("PATH", path)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ssh = home.join(".ssh");
    let h = home.display();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .collect::<Vec<_>>(),
        ["sshd", "-D", "-f", &format!("{h}/.ssh/sshd_config"), ""]
    );
    assert_eq!(
        std::fs::read_to_string(ssh.join("id_rsa")).expect("id_rsa"),
        "PRIVATE"
    );
    assert_eq!(
        std::fs::read_to_string(ssh.join("authorized_keys")).expect("authorized"),
        "PUBLIC"
    );
    assert_eq!(
        std::fs::read_to_string(ssh.join("config")).expect("config"),
        format!(
            "Host *\n    IdentityFile {h}/.ssh/id_rsa\n    StrictHostKeyChecking no\n    Port 2222\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(ssh.join("sshd_config")).expect("sshd_config"),
        format!(
            "Port 2222\nHostKey {h}/.ssh/host_keys/ssh_host_rsa_key\nHostKey {h}/.ssh/host_keys/ssh_host_ecdsa_key\n\
             HostKey {h}/.ssh/host_keys/ssh_host_ed25519_key\nPidFile {h}/.ssh/run/sshd.pid\n\
             AuthorizedKeysFile {h}/.ssh/authorized_keys\nStrictModes no\nPermitRootLogin yes\n\
             PubkeyAuthentication yes\nPasswordAuthentication no\n"
        )
    );
    for kind in ["rsa", "ecdsa", "ed25519"] {
        assert!(
            ssh.join(format!("host_keys/ssh_host_{kind}_key")).exists(),
            "{kind}"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ssh.join("id_rsa"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
