//! The harness's own lifecycle: loud failures (missing binaries, crashing components), CRD
//! installation, and cleanup on drop.

use std::path::{Path, PathBuf};

use dynamo_test_harness::{Bins, Component, ControlPlane, HarnessError, Mode};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};

/// A directory with the real etcd and a kube-apiserver that fails at once.
fn bins_with_failing_apiserver(dir: &Path) -> Bins {
    let real = Bins::locate().unwrap_or_else(|e| panic!("{e}"));
    let etcd = real
        .path(Component::Etcd, "etcd")
        .unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(etcd, dir.join("etcd")).expect("symlink etcd");
    let fake = dir.join("kube-apiserver");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'fake kube-apiserver: deliberate failure' >&2\nexit 3\n",
    )
    .expect("write fake kube-apiserver");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Bins::from_dir(dir)
}

#[tokio::test]
async fn a_missing_binary_names_the_build_command() {
    let empty = tempfile::tempdir().expect("tempdir");
    match ControlPlane::start_with_bins(Mode::Basic, Bins::from_dir(empty.path())).await {
        Err(e @ HarnessError::MissingBinary { .. }) => {
            let message = e.to_string();
            eprintln!("{message}");
            assert!(message.contains("hack/build-tools.sh"), "{message}");
            assert!(message.contains("etcd"), "{message}");
        }
        other => panic!("expected MissingBinary, got {other:?}"),
    }
}

#[tokio::test]
async fn a_crashing_component_is_reported_with_its_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bins = bins_with_failing_apiserver(dir.path());
    let result = ControlPlane::start_with_bins(Mode::Basic, bins).await;
    if let Err(e) = &result {
        eprintln!("{e}");
    }
    match result {
        Err(HarnessError::Exited {
            component,
            status,
            log_tail,
            ..
        }) => {
            assert_eq!(component, Component::ApiServer);
            assert_eq!(status, "exit status 3");
            assert!(log_tail.contains("deliberate failure"), "{log_tail}");
        }
        other => panic!("expected Exited, got {other:?}"),
    }
}

const TEST_CRD: &str = r#"
# A comment-only document and an empty one are ignored.
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.harness.test
spec:
  group: harness.test
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer } } }
---
"#;

#[tokio::test]
async fn crds_install_and_drop_stops_processes_and_removes_the_dir() {
    let cp = ControlPlane::start(Mode::Basic)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let crd_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(crd_dir.path().join("widgets.yaml"), TEST_CRD).expect("write CRD");
    std::fs::write(crd_dir.path().join("README.md"), "not YAML").expect("write README");
    let installed = cp
        .install_crds(crd_dir.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(installed, ["widgets.harness.test"]);
    let (client, ns) = cp.namespace("crds").await.unwrap_or_else(|e| panic!("{e}"));
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("harness.test", "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(client, &ns, &resource);
    let widget = DynamicObject::new("w", &resource).data(serde_json::json!({"spec": {"size": 3}}));
    widgets
        .create(&PostParams::default(), &widget)
        .await
        .expect("create a Widget");

    // The audit log tells one client's requests from everyone else's, writes apart.
    let mut config = cp.kube_config();
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static("audit-probe/1"),
    ));
    let probe: Api<DynamicObject> = Api::namespaced_with(
        kube::Client::try_from(config).expect("client"),
        &ns,
        &resource,
    );
    probe.get("w").await.expect("get the Widget");
    probe.list(&Default::default()).await.expect("list Widgets");
    probe
        .delete("w", &Default::default())
        .await
        .expect("delete the Widget");
    let requests = cp.audited_requests("audit-probe/").expect("audit log");
    let verbs: Vec<&str> = requests.iter().map(|r| r.verb.as_str()).collect();
    assert_eq!(verbs, ["get", "list", "delete"], "{requests:?}");
    let writes = cp.audited_writes("audit-probe/").expect("audit log");
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(
        (writes[0].resource.as_str(), writes[0].name.as_str()),
        ("widgets", "w")
    );
    assert!(cp.pid(Component::ApiServer).is_some_and(|pid| pid > 1));

    let dir = cp.dir().to_path_buf();
    let pids: Vec<PathBuf> = std::fs::read_dir(dir.join("run"))
        .expect("run dir")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "pid"))
        .map(|p| {
            let pid = std::fs::read_to_string(&p).expect("pid file");
            PathBuf::from(format!("/proc/{}", pid.trim()))
        })
        .collect();
    assert_eq!(pids.len(), 2, "expected etcd and kube-apiserver: {pids:?}");
    assert!(pids.iter().all(|p| p.exists()));

    drop(cp);

    assert!(pids.iter().all(|p| !p.exists()), "still running: {pids:?}");
    assert!(!dir.exists(), "{} still exists", dir.display());
}
