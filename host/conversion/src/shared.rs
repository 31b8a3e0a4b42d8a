//! The component spec both kinds share: a DGD's service/component and a DCD's spec.
//!
//! `up` converts a v1alpha1 `DynamoComponentDeploymentSharedSpec` to v1beta1, `down` the other
//! way. Each takes the sparse payload the target version left behind on an earlier trip
//! (`restored`: fields of the target that the source cannot hold) and fills a sparse payload of
//! its own (`save`: fields of the source that the target cannot hold). Live source fields always
//! win; restored data only fills fields the source cannot represent, and is matched against the
//! live object before use so stale leftovers are ignored.

use serde_json::Value;

use crate::pod::{self, FRONTEND_SIDECAR, MAIN};
use crate::shape::{self, Quantity};
use crate::value::{self as v, go};

/// What a shared-spec conversion needs to know about the object around it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UpContext {
    /// Record where each main-container field came from (objects that did not start at v1beta1).
    pub(crate) include_origin_splits: bool,
    /// The v1beta1 original had a pod template, so build one even with no pod field set.
    pub(crate) template_origin: bool,
}

// === v1alpha1 -> v1beta1 ===

/// Converts a v1alpha1 shared spec to v1beta1.
pub(crate) fn up(
    src: &Value,
    restored: Option<&Value>,
    save: Option<&mut Value>,
    ctx: UpContext,
) -> Value {
    let mut dst = v::obj();
    v::put_ref(
        &mut dst,
        "providerOverride",
        v::get(src, "providerOverride"),
    );
    let ty = component_type_up(src);
    if !ty.is_empty() {
        v::put(&mut dst, "type", Some(Value::from(ty)));
    }
    v::put_ref(&mut dst, "name", v::get(src, "serviceName"));
    for key in [
        "runtimeVersionOverride",
        "globalDynamoNamespace",
        "replicas",
        "minAvailable",
    ] {
        v::put_ref(&mut dst, key, v::get(src, key));
    }
    for key in ["multinode", "modelRef", "topologyConstraint", "eppConfig"] {
        v::put_ref(&mut dst, key, v::get(src, key));
    }
    if let Some(sm) = v::get(src, "sharedMemory") {
        let disabled = v::flag(sm, "disabled");
        let size = v::get(sm, "size")
            .cloned()
            .unwrap_or_else(|| Value::from("0"));
        if disabled {
            v::put(&mut dst, "sharedMemorySize", Some(Value::from("0")));
        } else if size.as_str() != Some("0") {
            v::put(&mut dst, "sharedMemorySize", Some(size));
        }
    }
    if let Some(cache) = v::items(src, "volumeMounts")
        .iter()
        .find(|m| v::flag(m, "useAsCompilationCache"))
    {
        let mut cc = v::obj();
        v::put_ref(&mut cc, "pvcName", v::get(cache, "name"));
        v::put_ref(&mut cc, "mountPath", v::get(cache, "mountPoint"));
        v::put(&mut dst, "compilationCache", Some(cc));
    }
    if v::get(src, "scalingAdapter").is_some_and(|sa| v::flag(sa, "enabled")) {
        v::put(&mut dst, "scalingAdapter", Some(v::obj()));
    }
    experimental_up(src, &mut dst);
    if let Some(template) = pod::compose_pod_template(src, ctx.template_origin) {
        if v::get(src, "frontendSidecar").is_some() {
            v::put(
                &mut dst,
                "frontendSidecar",
                Some(Value::from(FRONTEND_SIDECAR)),
            );
        }
        v::put(&mut dst, "podTemplate", Some(template));
    }
    if let Some(restored) = restored {
        restore_beta_only(&mut dst, restored, src);
    }
    if let Some(save) = save {
        save_alpha_only(src, save, ctx.include_origin_splits);
    }
    dst
}

/// The v1beta1 `type`: v1alpha1 workers whose sub-type is prefill or decode become that type.
fn component_type_up(src: &Value) -> String {
    if sub_type_promotes(src) {
        v::text(src, "subComponentType").to_string()
    } else {
        v::text(src, "componentType").to_string()
    }
}

fn sub_type_promotes(src: &Value) -> bool {
    v::text(src, "componentType") == "worker"
        && matches!(v::text(src, "subComponentType"), "prefill" | "decode")
}

/// GPU memory service modes are spelled `intraPod`/`interPod` in v1alpha1 and
/// `IntraPod`/`InterPod` in v1beta1; other values pass through.
fn gms_mode(feature: &mut Value, to_beta: bool) {
    let mapped = match (v::text(feature, "mode"), to_beta) {
        ("intraPod", true) => "IntraPod",
        ("interPod", true) => "InterPod",
        ("IntraPod", false) => "intraPod",
        ("InterPod", false) => "interPod",
        _ => return,
    };
    v::put(feature, "mode", Some(Value::from(mapped)));
}

fn experimental_up(src: &Value, dst: &mut Value) {
    let mut exp = v::obj();
    for key in ["gpuMemoryService", "failover"] {
        if let Some(feature) = v::get(src, key).filter(|f| v::flag(f, "enabled")) {
            let mut out = feature.clone();
            v::put(&mut out, "enabled", None);
            gms_mode(&mut out, true);
            v::put(&mut exp, key, Some(out));
        }
    }
    v::put_ref(&mut exp, "checkpoint", v::get(src, "checkpoint"));
    if exp.as_object().is_some_and(|o| !o.is_empty()) {
        v::put(dst, "experimental", Some(exp));
    }
}

/// Puts back the v1beta1-only parts of a component from its sparse v1beta1 payload.
fn restore_beta_only(dst: &mut Value, preserved: &Value, src: &Value) {
    let template = restore_template_beta_only(
        preserved,
        v::get(dst, "podTemplate"),
        v::get(dst, "compilationCache"),
        src,
    );
    v::put(dst, "podTemplate", template);
    if v::get(dst, "frontendSidecar").is_none()
        && let Some(fs) = v::get(preserved, "frontendSidecar").and_then(Value::as_str)
    {
        let preserved_template = v::get(preserved, "podTemplate");
        let kept = pod::template_has(preserved_template, fs);
        if !kept || pod::template_has(v::get(dst, "podTemplate"), fs) {
            v::put(dst, "frontendSidecar", Some(Value::from(fs)));
        }
    }
    let preserved_exp = v::get(preserved, "experimental");
    if v::get(dst, "experimental").is_none() {
        if experimental_is_beta_only(preserved_exp) {
            v::put_ref(dst, "experimental", preserved_exp);
        }
    } else if let Some(grove) = preserved_exp.and_then(|e| v::get(e, "grove"))
        && let Some(exp) = v::get_mut(dst, "experimental")
        && v::get(exp, "grove").is_none()
    {
        v::put_ref(exp, "grove", Some(grove));
    }
}

fn experimental_is_beta_only(exp: Option<&Value>) -> bool {
    exp.is_some_and(|e| {
        v::get(e, "gpuMemoryService").is_none()
            && v::get(e, "failover").is_none()
            && v::get(e, "checkpoint").is_none()
    })
}

fn restore_template_beta_only(
    preserved: &Value,
    semantic: Option<&Value>,
    cache: Option<&Value>,
    src: &Value,
) -> Option<Value> {
    let Some(saved) = v::get(preserved, "podTemplate") else {
        return semantic.cloned();
    };
    let mut out = semantic.cloned().unwrap_or_else(v::obj);
    drop_generated_cache_mount(&mut out, saved, cache, src);
    drop_generated_main(&mut out, saved, cache, src);
    restore_missing_containers(&mut out, saved, src);
    restore_sidecar_fields(&mut out, saved, src);
    restore_container_order(&mut out, saved);
    restore_template_metadata(&mut out, saved);
    restore_mount_fields(&mut out, saved, src);
    if pod::pod_template_is_zero(Some(saved)) && pod::pod_template_is_zero(Some(&out)) {
        return Some(out);
    }
    (!pod::pod_template_is_zero(Some(&out))).then_some(out)
}

fn cache_keys(cache: Option<&Value>) -> Option<(String, String)> {
    cache.map(|c| {
        (
            v::text(c, "pvcName").to_string(),
            v::text(c, "mountPath").to_string(),
        )
    })
}

fn main_mounts(src_main: Option<&Value>) -> &[Value] {
    src_main.map_or(&[], |m| v::items(m, "volumeMounts"))
}

/// Whether the v1alpha1 `extraPodSpec.mainContainer` mounts `name` at `path`.
fn extra_main_mounts(src: &Value, name: &str, path: &str) -> bool {
    let main = v::get(src, "extraPodSpec").and_then(|e| v::get(e, "mainContainer"));
    pod::native_has(main_mounts(main), name, path)
}

fn drop_generated_cache_mount(out: &mut Value, saved: &Value, cache: Option<&Value>, src: &Value) {
    let Some((name, path)) = cache_keys(cache) else {
        return;
    };
    let saved_main = pod::containers(Some(saved))
        .iter()
        .find(|c| v::text(c, "name") == MAIN);
    if pod::native_has(main_mounts(saved_main), &name, &path)
        || extra_main_mounts(src, &name, &path)
    {
        return;
    }
    if let Some(main) = pod::containers_mut(out)
        .iter_mut()
        .find(|c| v::text(c, "name") == MAIN)
    {
        let kept: Vec<Value> = v::items(main, "volumeMounts")
            .iter()
            .filter(|m| !(v::text(m, "name") == name && v::text(m, "mountPath") == path))
            .cloned()
            .collect();
        let had = main.get("volumeMounts").is_some();
        v::put(main, "volumeMounts", had.then_some(Value::Array(kept)));
    }
    pod::tidy_containers_if_absent(out);
}

fn drop_generated_main(out: &mut Value, saved: &Value, cache: Option<&Value>, src: &Value) {
    if pod::template_has(Some(saved), MAIN)
        || pod::resources_need_preservation(v::get(src, "resources"))
    {
        return;
    }
    let keys = cache_keys(cache);
    let list = pod::containers_mut(out);
    if let Some(i) = list.iter().position(|c| v::text(c, "name") == MAIN) {
        let mut copy = list[i].clone();
        if let Some((name, path)) = &keys {
            let kept: Vec<Value> = v::items(&copy, "volumeMounts")
                .iter()
                .filter(|m| !(v::text(m, "name") == name && v::text(m, "mountPath") == path))
                .cloned()
                .collect();
            v::put(&mut copy, "volumeMounts", Some(Value::Array(kept)));
        }
        if pod::container_is_empty(Some(&copy)) {
            list.remove(i);
            if list.is_empty()
                && let Some(spec) = v::get_mut(out, "spec")
            {
                v::put(spec, "containers", None);
            }
        }
    }
    pod::tidy_containers_if_absent(out);
}

fn container_has_only_name(c: &Value) -> bool {
    pod::container_is_empty(Some(c))
}

fn restore_missing_containers(out: &mut Value, saved: &Value, src: &Value) {
    for c in pod::containers(Some(saved)) {
        let name = v::text(c, "name");
        if container_has_only_name(c)
            || pod::template_has(Some(out), name)
            || (name == FRONTEND_SIDECAR && v::get(src, "frontendSidecar").is_none())
        {
            continue;
        }
        pod::containers_mut(out).push(c.clone());
    }
    pod::tidy_containers_if_absent(out);
}

fn restore_sidecar_fields(out: &mut Value, saved: &Value, src: &Value) {
    let Some(fs) = v::get(src, "frontendSidecar") else {
        return;
    };
    let Some(saved_c) = v::find_named(pod::containers(Some(saved)), FRONTEND_SIDECAR) else {
        return;
    };
    if container_has_only_name(saved_c) {
        return;
    }
    let list = pod::containers_mut(out);
    let Some(dst_c) = list
        .iter_mut()
        .find(|c| v::text(c, "name") == FRONTEND_SIDECAR)
    else {
        pod::tidy_containers_if_absent(out);
        return;
    };
    let mut leftovers = saved_c.clone();
    for key in ["name", "image", "args", "env"] {
        v::put(&mut leftovers, key, None);
    }
    if v::has_items(&leftovers, "envFrom") {
        let restored = sidecar_env_from(
            v::items(dst_c, "envFrom"),
            v::items(&leftovers, "envFrom"),
            fs,
        );
        v::put(&mut leftovers, "envFrom", restored);
    }
    shape::merge_override(dst_c, &leftovers, go::container());
}

fn sidecar_env_from(dst: &[Value], saved: &[Value], fs: &Value) -> Option<Value> {
    let secret = v::get(fs, "envFromSecret")
        .and_then(Value::as_str)
        .unwrap_or("");
    if secret.is_empty() {
        return Some(Value::Array(saved.to_vec()));
    }
    let secret_name = |e: &Value| v::get(e, "secretRef").map(|s| v::text(s, "name").to_string());
    if dst.len() != 1
        || saved.len() != 1
        || secret_name(&dst[0]).as_deref() != Some(secret)
        || secret_name(&saved[0]).as_deref() != Some(secret)
    {
        return None;
    }
    Some(Value::Array(saved.to_vec()))
}

fn restore_container_order(out: &mut Value, saved: &Value) {
    let order = pod::container_names(Some(saved));
    let current = pod::containers(Some(out));
    if order.len() < 2 || order.len() != current.len() {
        return;
    }
    if current
        .iter()
        .any(|c| !order.iter().any(|n| n == v::text(c, "name")))
    {
        return;
    }
    let mut remaining: Vec<Value> = current.to_vec();
    let mut sorted = Vec::with_capacity(remaining.len());
    for name in &order {
        if let Some(i) = remaining.iter().position(|c| v::text(c, "name") == name) {
            sorted.push(remaining.remove(i));
        }
    }
    sorted.extend(remaining);
    *pod::containers_mut(out) = sorted;
}

fn restore_template_metadata(out: &mut Value, saved: &Value) {
    let live = v::get(out, "metadata").cloned().unwrap_or_else(v::obj);
    let mut meta = v::get(saved, "metadata").cloned().unwrap_or_else(v::obj);
    v::put_ref(&mut meta, "labels", v::get(&live, "labels"));
    v::put_ref(&mut meta, "annotations", v::get(&live, "annotations"));
    let empty = meta.as_object().is_some_and(serde_json::Map::is_empty);
    v::put(out, "metadata", (!empty).then_some(meta));
}

fn restore_mount_fields(out: &mut Value, saved: &Value, src: &Value) {
    let flat = v::items(src, "volumeMounts");
    if flat.is_empty() {
        return;
    }
    let Some(saved_main) = v::find_named(pod::containers(Some(saved)), MAIN) else {
        return;
    };
    let saved_mounts = v::items(saved_main, "volumeMounts").to_vec();
    if saved_mounts.is_empty() {
        return;
    }
    let list = pod::containers_mut(out);
    if let Some(main) = list.iter_mut().find(|c| v::text(c, "name") == MAIN)
        && let Some(Value::Array(mounts)) = main.get_mut("volumeMounts")
    {
        for mount in mounts.iter_mut() {
            let (name, path) = (
                v::text(mount, "name").to_string(),
                v::text(mount, "mountPath").to_string(),
            );
            if !pod::flat_has(flat, &name, &path) || extra_main_mounts(src, &name, &path) {
                continue;
            }
            if let Some(mut found) = pod::find_matching_mount(&saved_mounts, mount) {
                v::put(
                    &mut found,
                    "name",
                    (!name.is_empty()).then(|| Value::from(name.clone())),
                );
                v::put(
                    &mut found,
                    "mountPath",
                    (!path.is_empty()).then(|| Value::from(path.clone())),
                );
                *mount = found;
            }
        }
    }
    pod::tidy_containers_if_absent(out);
}

// === what v1beta1 cannot hold of a v1alpha1 component ===

fn save_alpha_only(src: &Value, save: &mut Value, include_origin_splits: bool) {
    let mut any = false;
    let mut keep = |save: &mut Value, key: &str, value: Option<&Value>| {
        if value.is_some() {
            v::put_ref(save, key, value);
            any = true;
        }
    };
    if !v::text(src, "subComponentType").is_empty() && !sub_type_promotes(src) {
        keep(save, "subComponentType", v::get(src, "subComponentType"));
    }
    for key in ["dynamoNamespace", "autoscaling", "ingress"] {
        keep(save, key, v::get(src, key));
    }
    for key in ["annotations", "labels"] {
        if v::has_items(src, key) {
            keep(save, key, v::get(src, key));
        }
    }
    keep(save, "envFromSecret", v::get(src, "envFromSecret"));
    if pod::resources_need_preservation(v::get(src, "resources")) {
        keep(save, "resources", v::get(src, "resources"));
    }
    let mounts = v::items(src, "volumeMounts");
    if !mounts.is_empty() && !pod::mounts_round_trip(mounts) {
        keep(save, "volumeMounts", v::get(src, "volumeMounts"));
    }
    if shared_memory_needs_preservation(v::get(src, "sharedMemory")) {
        keep(save, "sharedMemory", v::get(src, "sharedMemory"));
    }
    if pod_metadata_needs_preservation(v::get(src, "extraPodMetadata")) {
        keep(save, "extraPodMetadata", v::get(src, "extraPodMetadata"));
    }
    let eps = v::get(src, "extraPodSpec");
    if pod::extra_pod_spec_needs_preservation(eps)
        || sidecar_conflict(v::get(src, "frontendSidecar"), eps)
    {
        keep(save, "extraPodSpec", eps);
    }
    if v::get(src, "scalingAdapter").is_some_and(|sa| !v::flag(sa, "enabled")) {
        keep(save, "scalingAdapter", v::get(src, "scalingAdapter"));
    }
    keep(save, "frontendSidecar", v::get(src, "frontendSidecar"));
    for key in ["gpuMemoryService", "failover"] {
        if v::get(src, key).is_some_and(|x| !v::flag(x, "enabled")) {
            keep(save, key, v::get(src, key));
        }
    }
    if include_origin_splits || any || main_origins_need_save(src) {
        save_main_origins(src, save);
    }
}

/// Whether a v1alpha1 `frontendSidecar` would collide with a container the `extraPodSpec`
/// already calls `sidecar-frontend` (v1alpha1 admission refuses that; keep the evidence).
fn sidecar_conflict(fs: Option<&Value>, eps: Option<&Value>) -> bool {
    fs.is_some() && pod::extra_pod_spec_has_container(eps, FRONTEND_SIDECAR)
}

/// Odd shared-memory shapes: disabled with a size, or enabled without one.
fn shared_memory_needs_preservation(sm: Option<&Value>) -> bool {
    let Some(sm) = sm else { return false };
    let size_zero = v::get(sm, "size").is_none_or(|s| quantity_sign(s) == 0);
    if v::flag(sm, "disabled") {
        !size_zero
    } else {
        size_zero
    }
}

fn quantity_sign(q: &Value) -> i32 {
    match q.as_str().and_then(|s| Quantity::parse(s).ok()) {
        Some(q) if q.canonical() == "0" => 0,
        Some(q) if q.canonical().starts_with('-') => -1,
        Some(_) => 1,
        None => 0,
    }
}

/// An `extraPodMetadata` with neither annotations nor labels leaves no trace in a template.
fn pod_metadata_needs_preservation(m: Option<&Value>) -> bool {
    m.is_some_and(|m| !v::has_items(m, "annotations") && !v::has_items(m, "labels"))
}

fn main_origins_need_save(src: &Value) -> bool {
    let Some(main) = v::get(src, "extraPodSpec").and_then(|e| v::get(e, "mainContainer")) else {
        return false;
    };
    !v::text(main, "name").is_empty()
        || v::has_items(main, "env")
        || !pod::requirements_equal(v::get(main, "resources"), None)
        || v::has_items(main, "volumeMounts")
        || v::get(main, "livenessProbe").is_some()
        || v::get(main, "readinessProbe").is_some()
}

fn ensure_saved_main(save: &mut Value) -> &mut Value {
    let eps = v::ensure(save, "extraPodSpec");
    v::ensure(eps, "mainContainer")
}

/// Records which main-container fields came from `extraPodSpec.mainContainer` and which from
/// the dedicated fields, so the way back splits them the same way.
fn save_main_origins(src: &Value, save: &mut Value) {
    let Some(main) = v::get(src, "extraPodSpec").and_then(|e| v::get(e, "mainContainer")) else {
        return;
    };
    if !v::text(main, "name").is_empty() {
        v::put_ref(ensure_saved_main(save), "name", v::get(main, "name"));
    }
    if v::has_items(src, "envs") || v::has_items(main, "env") {
        v::put_ref(save, "envs", v::get(src, "envs"));
        v::put_ref(ensure_saved_main(save), "env", v::get(main, "env"));
    }
    if v::get(src, "envFromSecret").is_some() || v::has_items(main, "envFrom") {
        if let Some(s) = v::get(src, "envFromSecret") {
            v::put_ref(save, "envFromSecret", Some(s));
        }
        v::put_ref(ensure_saved_main(save), "envFrom", v::get(main, "envFrom"));
    }
    if v::get(src, "resources").is_some()
        || !pod::requirements_equal(v::get(main, "resources"), None)
    {
        v::put_ref(save, "resources", v::get(src, "resources"));
        v::put_ref(
            ensure_saved_main(save),
            "resources",
            v::get(main, "resources"),
        );
    }
    if v::has_items(src, "volumeMounts") || v::has_items(main, "volumeMounts") {
        v::put_ref(save, "volumeMounts", v::get(src, "volumeMounts"));
        let mounts =
            v::get(main, "volumeMounts").filter(|m| m.as_array().is_some_and(|a| !a.is_empty()));
        v::put_ref(ensure_saved_main(save), "volumeMounts", mounts);
    }
    for key in ["livenessProbe", "readinessProbe"] {
        if v::get(src, key).is_some() || v::get(main, key).is_some() {
            v::put_ref(save, key, v::get(src, key));
            v::put_ref(ensure_saved_main(save), key, v::get(main, key));
        }
    }
}

// === v1beta1 -> v1alpha1 ===

/// Converts a v1beta1 shared spec to v1alpha1.
pub(crate) fn down(src: &Value, restored: Option<&Value>, save: Option<&mut Value>) -> Value {
    let mut dst = v::obj();
    v::put_ref(
        &mut dst,
        "providerOverride",
        v::get(src, "providerOverride"),
    );
    match v::text(src, "type") {
        "" => {}
        t @ ("prefill" | "decode") => {
            v::put(&mut dst, "componentType", Some(Value::from("worker")));
            v::put(&mut dst, "subComponentType", Some(Value::from(t)));
        }
        t => v::put(&mut dst, "componentType", Some(Value::from(t))),
    }
    for key in ["globalDynamoNamespace", "replicas", "minAvailable"] {
        v::put_ref(&mut dst, key, v::get(src, key));
    }
    for key in [
        "multinode",
        "modelRef",
        "topologyConstraint",
        "eppConfig",
        "runtimeVersionOverride",
    ] {
        v::put_ref(&mut dst, key, v::get(src, key));
    }
    v::put_ref(&mut dst, "serviceName", v::get(src, "name"));
    if let Some(size) = v::get(src, "sharedMemorySize") {
        let mut sm = v::obj();
        if quantity_sign(size) == 0 {
            v::put(&mut sm, "disabled", Some(Value::Bool(true)));
        }
        if size.as_str() != Some("0") {
            v::put_ref(&mut sm, "size", Some(size));
        }
        v::put(&mut dst, "sharedMemory", Some(sm));
    }
    if let Some(cc) = v::get(src, "compilationCache") {
        let mut m = v::obj();
        v::put_ref(&mut m, "name", v::get(cc, "pvcName"));
        v::put_ref(&mut m, "mountPoint", v::get(cc, "mountPath"));
        v::put(&mut m, "useAsCompilationCache", Some(Value::Bool(true)));
        v::put(&mut dst, "volumeMounts", Some(Value::Array(vec![m])));
    }
    if let Some(exp) = v::get(src, "experimental") {
        for key in ["gpuMemoryService", "failover"] {
            if let Some(x) = v::get(exp, key) {
                let mut out = x.clone();
                v::put(&mut out, "enabled", Some(Value::Bool(true)));
                gms_mode(&mut out, false);
                v::put(&mut dst, key, Some(out));
            }
        }
        v::put_ref(&mut dst, "checkpoint", v::get(exp, "checkpoint"));
    }
    if v::get(src, "scalingAdapter").is_some() {
        v::put(
            &mut dst,
            "scalingAdapter",
            Some(serde_json::json!({ "enabled": true })),
        );
    }
    decompose_template(src, &mut dst, restored);
    restore_cache_flags(&mut dst, restored, src);
    if let Some(restored) = restored {
        restore_alpha_only(&mut dst, restored, has_main(src));
    }
    prune_extra_pod_spec(&mut dst, restored);
    if let Some(save) = save {
        save_beta_only(src, &dst, save);
    }
    dst
}

fn has_main(src: &Value) -> bool {
    pod::template_has(v::get(src, "podTemplate"), MAIN)
}

fn restored_default_sidecar<'a>(src: &Value, restored: Option<&'a Value>) -> Option<&'a Value> {
    if v::get(src, "frontendSidecar").and_then(Value::as_str) != Some(FRONTEND_SIDECAR) {
        return None;
    }
    restored.and_then(|r| v::get(r, "frontendSidecar"))
}

fn decompose_template(src: &Value, dst: &mut Value, restored: Option<&Value>) {
    let Some(template) = v::get(src, "podTemplate") else {
        if let Some(fs) = restored_default_sidecar(src, restored) {
            v::put_ref(dst, "frontendSidecar", Some(fs));
        }
        return;
    };
    if let Some(meta) = v::get(template, "metadata")
        && (v::has_items(meta, "annotations") || v::has_items(meta, "labels"))
    {
        let mut epm = v::obj();
        v::put_ref(&mut epm, "annotations", v::get(meta, "annotations"));
        v::put_ref(&mut epm, "labels", v::get(meta, "labels"));
        v::put(dst, "extraPodMetadata", Some(epm));
    }
    let mut main: Option<Value> = None;
    let mut other: Vec<Value> = Vec::new();
    for c in pod::containers(Some(template)) {
        if main.is_none() && v::text(c, "name") == MAIN {
            main = Some(c.clone());
        } else {
            other.push(c.clone());
        }
    }
    if let Some(fs) = restored_default_sidecar(src, restored) {
        match v::find_named(&other, FRONTEND_SIDECAR) {
            Some(c) => {
                v::put(dst, "frontendSidecar", Some(sidecar_from_container(c, fs)));
                other.retain(|c| v::text(c, "name") != FRONTEND_SIDECAR);
            }
            None => v::put_ref(dst, "frontendSidecar", Some(fs)),
        }
    }
    if let Some(main) = main.as_mut() {
        dedicated_from_main(main, dst);
    }
    let mut spec = v::get(template, "spec").cloned().unwrap_or_else(v::obj);
    v::put(&mut spec, "containers", Some(Value::Array(other)));
    let main_copy = main.map(|mut m| {
        v::put(&mut m, "name", None);
        m
    });
    let main_copy = main_copy.filter(|m| !pod::container_is_empty(Some(m)));
    let pod_set = !pod::pod_spec_is_zero(Some(&spec));
    if pod_set || main_copy.is_some() {
        let mut eps = if pod_set { spec } else { v::obj() };
        v::put(&mut eps, "mainContainer", main_copy);
        v::put(dst, "extraPodSpec", Some(eps));
    }
}

fn sidecar_from_container(c: &Value, origin: &Value) -> Value {
    let mut out = origin.clone();
    v::put_ref(&mut out, "image", v::get(c, "image"));
    v::put_ref(&mut out, "args", v::get(c, "args"));
    v::put_ref(&mut out, "envs", v::get(c, "env"));
    let env_from = v::items(c, "envFrom");
    let single_secret = (env_from.len() == 1
        && v::text(&env_from[0], "prefix").is_empty()
        && v::get(&env_from[0], "configMapRef").is_none())
    .then(|| v::get(&env_from[0], "secretRef"))
    .flatten();
    let secret = match single_secret {
        Some(s) => Some(Value::from(v::text(s, "name"))),
        None if v::get(origin, "envFromSecret").and_then(Value::as_str) == Some("") => {
            Some(Value::from(""))
        }
        None => None,
    };
    v::put(&mut out, "envFromSecret", secret);
    out
}

fn dedicated_from_main(main: &mut Value, dst: &mut Value) {
    if let Some(r) = pod::resources_from_native(v::get(main, "resources")) {
        v::put(dst, "resources", Some(r));
        v::put(main, "resources", None);
    }
    let mounts = v::items(main, "volumeMounts").to_vec();
    if !mounts.is_empty() {
        let mut flat = v::items(dst, "volumeMounts").to_vec();
        pod::append_missing_mounts(&mut flat, &pod::mounts_from_native(&mounts));
        v::put(dst, "volumeMounts", Some(Value::Array(flat)));
        v::put(main, "volumeMounts", None);
    }
    if v::has_items(main, "env") {
        v::put_ref(dst, "envs", v::get(main, "env"));
        v::put(main, "env", None);
    }
    for key in ["livenessProbe", "readinessProbe"] {
        if let Some(p) = v::get(main, key).cloned() {
            v::put(dst, key, Some(p));
            v::put(main, key, None);
        }
    }
}

/// Puts back compilation-cache flags v1beta1 cannot express (more than one flagged mount), when
/// the live object still shows what they projected to.
fn restore_cache_flags(dst: &mut Value, restored: Option<&Value>, src: &Value) {
    let Some(restored) = restored else { return };
    let saved = v::items(restored, "volumeMounts");
    if pod::mounts_round_trip(saved) {
        return;
    }
    let cache = v::get(src, "compilationCache");
    let first_flagged = saved.iter().find(|m| v::flag(m, "useAsCompilationCache"));
    let first_matches = match first_flagged {
        Some(m) => cache_matches(cache, m),
        None => cache.is_none(),
    };
    if !first_matches {
        return;
    }
    let main = v::find_named(pod::containers(v::get(src, "podTemplate")), MAIN);
    let mut projection: Vec<Value> = first_flagged.into_iter().cloned().collect();
    if let Some(main) = main {
        pod::append_missing_mounts(
            &mut projection,
            &pod::mounts_from_native(v::items(main, "volumeMounts")),
        );
    }
    if !flat_mounts_equal(v::items(dst, "volumeMounts"), &projection) {
        return;
    }
    let secondary_projected = main.is_some() || pod::has_pod_template_content(restored, false);
    let mut live = Vec::new();
    let mut first_seen = false;
    for m in saved.iter().filter(|m| v::flag(m, "useAsCompilationCache")) {
        if !first_seen {
            first_seen = true;
            if cache_matches(cache, m) {
                live.push(m.clone());
            }
            continue;
        }
        if !secondary_projected
            || pod::native_has(
                main_mounts(main),
                v::text(m, "name"),
                v::text(m, "mountPoint"),
            )
        {
            live.push(m.clone());
        }
    }
    let mut merged: Vec<Value> = Vec::new();
    for m in &live {
        if !pod::flat_has(&merged, v::text(m, "name"), v::text(m, "mountPoint")) {
            merged.push(m.clone());
        }
    }
    for m in v::items(dst, "volumeMounts") {
        if !pod::flat_has(&merged, v::text(m, "name"), v::text(m, "mountPoint")) {
            merged.push(m.clone());
        }
    }
    v::put(
        dst,
        "volumeMounts",
        (!merged.is_empty()).then_some(Value::Array(merged)),
    );
}

fn cache_matches(cache: Option<&Value>, mount: &Value) -> bool {
    cache.is_some_and(|c| {
        v::text(c, "pvcName") == v::text(mount, "name")
            && v::text(c, "mountPath") == v::text(mount, "mountPoint")
    })
}

fn flat_mounts_equal(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            v::text(x, "name") == v::text(y, "name")
                && v::text(x, "mountPoint") == v::text(y, "mountPoint")
                && v::flag(x, "useAsCompilationCache") == v::flag(y, "useAsCompilationCache")
        })
}

/// Puts back the v1alpha1-only parts of a component from its sparse v1alpha1 payload.
fn restore_alpha_only(dst: &mut Value, preserved: &Value, main_present: bool) {
    if v::text(dst, "subComponentType").is_empty() {
        v::put_ref(
            dst,
            "subComponentType",
            v::get(preserved, "subComponentType"),
        );
    }
    for key in ["dynamoNamespace", "autoscaling", "ingress"] {
        if v::get(dst, key).is_none() {
            v::put_ref(dst, key, v::get(preserved, key));
        }
    }
    for key in ["annotations", "labels"] {
        if !v::has_items(dst, key) {
            v::put_ref(dst, key, v::get(preserved, key));
        }
    }
    // Pod fields.
    let psm = v::get(preserved, "sharedMemory");
    if shared_memory_needs_preservation(psm) {
        let restore = match v::get(dst, "sharedMemory") {
            None => true,
            Some(live) => {
                psm.is_some_and(|p| v::flag(p, "disabled"))
                    && v::flag(live, "disabled")
                    && v::get(live, "size").is_none_or(|s| quantity_sign(s) == 0)
            }
        };
        if restore {
            v::put_ref(dst, "sharedMemory", psm);
        }
    }
    let pres = v::get(preserved, "resources");
    if main_present && pod::resources_need_preservation(pres) {
        let live = v::get(dst, "resources").map(pod::resources_to_native);
        let saved = pres.map(pod::resources_to_native);
        if pod::requirements_equal(live.as_ref(), saved.as_ref()) {
            v::put_ref(dst, "resources", pres);
        }
    }
    restore_env_from_secret(dst, preserved, main_present);
    if v::get(dst, "extraPodMetadata").is_none()
        && pod_metadata_needs_preservation(v::get(preserved, "extraPodMetadata"))
    {
        v::put_ref(
            dst,
            "extraPodMetadata",
            v::get(preserved, "extraPodMetadata"),
        );
    }
    let peps = v::get(preserved, "extraPodSpec");
    if peps.is_some()
        && (pod::extra_pod_spec_needs_preservation(peps)
            || sidecar_conflict(v::get(preserved, "frontendSidecar"), peps))
    {
        match v::get_mut(dst, "extraPodSpec") {
            None => v::put_ref(dst, "extraPodSpec", peps),
            Some(eps) => restore_sidecar_conflict(eps, peps),
        }
    }
    restore_main_origins(dst, preserved, main_present);
    let saved_main_name = peps
        .and_then(|e| v::get(e, "mainContainer"))
        .map(|m| v::text(m, "name").to_string());
    if let Some(name) = saved_main_name
        && let Some(main) =
            v::get_mut(dst, "extraPodSpec").and_then(|e| v::get_mut(e, "mainContainer"))
        && v::text(main, "name").is_empty()
    {
        v::put(main, "name", (!name.is_empty()).then(|| Value::from(name)));
    }
    // Features v1beta1 expresses by absence.
    for key in [
        "scalingAdapter",
        "gpuMemoryService",
        "failover",
        "checkpoint",
    ] {
        if v::get(dst, key).is_none()
            && let Some(p) = v::get(preserved, key)
            && !v::flag(p, "enabled")
        {
            v::put_ref(dst, key, Some(p));
        }
    }
}

fn restore_sidecar_conflict(eps: &mut Value, preserved: Option<&Value>) {
    let Some(preserved) = preserved else { return };
    let Some(c) = v::find_named(v::items(preserved, "containers"), FRONTEND_SIDECAR) else {
        return;
    };
    if v::has_named(v::items(eps, "containers"), FRONTEND_SIDECAR) {
        return;
    }
    v::ensure_list(eps, "containers").push(c.clone());
}

fn restore_env_from_secret(dst: &mut Value, preserved: &Value, main_present: bool) {
    if v::get(dst, "envFromSecret").is_some() {
        return;
    }
    let Some(secret) = v::get(preserved, "envFromSecret").and_then(Value::as_str) else {
        return;
    };
    if secret.is_empty() {
        v::put(dst, "envFromSecret", Some(Value::from("")));
        return;
    }
    if !main_present {
        return;
    }
    let Some(main) = v::get_mut(dst, "extraPodSpec").and_then(|e| v::get_mut(e, "mainContainer"))
    else {
        return;
    };
    let expected = pod::secret_env_from(secret);
    if !shape::sem_eq(
        v::get(main, "envFrom"),
        Some(&expected),
        &go::slice_of(go::env_from()),
    ) {
        return;
    }
    v::put(main, "envFrom", None);
    v::put(dst, "envFromSecret", Some(Value::from(secret)));
}

fn dst_saved_main(dst: &mut Value) -> &mut Value {
    ensure_saved_main(dst)
}

fn restore_main_origins(dst: &mut Value, preserved: &Value, main_present: bool) {
    if !main_present {
        return;
    }
    let Some(pmain) = v::get(preserved, "extraPodSpec")
        .and_then(|e| v::get(e, "mainContainer"))
        .cloned()
    else {
        return;
    };
    let current = pod::semantic_main(dst);
    let psem = pod::semantic_main(preserved);
    let env_ty = go::slice_of(go::env_var());
    if shape::sem_eq(v::get(&current, "env"), v::get(&psem, "env"), &env_ty)
        && (v::has_items(preserved, "envs") || v::has_items(&pmain, "env"))
    {
        v::put_ref(dst, "envs", v::get(preserved, "envs"));
        v::put_ref(dst_saved_main(dst), "env", v::get(&pmain, "env"));
    }
    let from_ty = go::slice_of(go::env_from());
    if shape::sem_eq(
        v::get(&current, "envFrom"),
        v::get(&psem, "envFrom"),
        &from_ty,
    ) && let Some(s) = v::get(preserved, "envFromSecret")
    {
        v::put_ref(dst, "envFromSecret", Some(s));
    }
    if pod::requirements_equal(v::get(&current, "resources"), v::get(&psem, "resources"))
        && (v::get(preserved, "resources").is_some()
            || !pod::requirements_equal(v::get(&pmain, "resources"), None))
    {
        v::put_ref(dst, "resources", v::get(preserved, "resources"));
        v::put_ref(
            dst_saved_main(dst),
            "resources",
            v::get(&pmain, "resources"),
        );
    }
    let current_mounts = without_cache_mounts(
        v::items(&current, "volumeMounts"),
        v::items(dst, "volumeMounts"),
    );
    let saved_mounts = without_cache_mounts(
        v::items(&psem, "volumeMounts"),
        v::items(preserved, "volumeMounts"),
    );
    let origins_match = current_mounts.len() == saved_mounts.len()
        && current_mounts.iter().zip(&saved_mounts).all(|(c, s)| {
            v::text(c, "name") == v::text(s, "name")
                && v::text(c, "mountPath") == v::text(s, "mountPath")
        });
    if origins_match
        && (v::has_items(preserved, "volumeMounts") || v::has_items(&pmain, "volumeMounts"))
    {
        let restored = restore_mount_origins(
            v::items(preserved, "volumeMounts"),
            v::items(dst, "volumeMounts"),
            v::items(&pmain, "volumeMounts"),
        );
        v::put(dst, "volumeMounts", restored);
        let mounts =
            v::get(&pmain, "volumeMounts").filter(|m| m.as_array().is_some_and(|a| !a.is_empty()));
        v::put_ref(dst_saved_main(dst), "volumeMounts", mounts);
    }
    let probe_ty = go::ptr_of(go::probe());
    for key in ["livenessProbe", "readinessProbe"] {
        if shape::sem_eq(v::get(&current, key), v::get(&psem, key), &probe_ty)
            && (v::get(preserved, key).is_some() || v::get(&pmain, key).is_some())
        {
            v::put_ref(dst, key, v::get(preserved, key));
            v::put_ref(dst_saved_main(dst), key, v::get(&pmain, key));
        }
    }
}

fn without_cache_mounts(mounts: &[Value], flat: &[Value]) -> Vec<Value> {
    mounts
        .iter()
        .filter(|m| {
            !flat.iter().any(|f| {
                v::flag(f, "useAsCompilationCache")
                    && v::text(f, "name") == v::text(m, "name")
                    && v::text(f, "mountPoint") == v::text(m, "mountPath")
            })
        })
        .cloned()
        .collect()
}

fn restore_mount_origins(
    preserved: &[Value],
    current: &[Value],
    preserved_main: &[Value],
) -> Option<Value> {
    let mut out: Vec<Value> = preserved
        .iter()
        .filter(|m| !v::flag(m, "useAsCompilationCache"))
        .cloned()
        .collect();
    for m in current {
        let (name, path) = (v::text(m, "name"), v::text(m, "mountPoint"));
        if !v::flag(m, "useAsCompilationCache") {
            if pod::native_has(preserved_main, name, path) || pod::flat_has(&out, name, path) {
                continue;
            }
            out.push(m.clone());
            continue;
        }
        match out
            .iter_mut()
            .find(|o| v::text(o, "name") == name && v::text(o, "mountPoint") == path)
        {
            Some(o) => v::put(o, "useAsCompilationCache", Some(Value::Bool(true))),
            None => out.push(m.clone()),
        }
    }
    Some(Value::Array(out))
}

fn prune_extra_pod_spec(dst: &mut Value, restored: Option<&Value>) {
    let restored_eps = restored.and_then(|r| v::get(r, "extraPodSpec"));
    let Some(eps) = v::get_mut(dst, "extraPodSpec") else {
        return;
    };
    if pod::container_is_empty(v::get(eps, "mainContainer"))
        && !pod::extra_pod_spec_only_names_main(restored_eps)
    {
        v::put(eps, "mainContainer", None);
    }
    if pod::extra_pod_spec_is_zero(Some(eps)) {
        if restored.is_some() && pod::extra_pod_spec_needs_preservation(restored_eps) {
            return;
        }
        v::put(dst, "extraPodSpec", None);
    }
}

// === what v1alpha1 cannot hold of a v1beta1 component ===

fn save_beta_only(src: &Value, converted: &Value, save: &mut Value) {
    if let Some(fs) = v::get(src, "frontendSidecar")
        && v::get(converted, "frontendSidecar").is_none()
    {
        v::put_ref(save, "frontendSidecar", Some(fs));
    }
    if let Some(template) = v::get(src, "podTemplate") {
        let projected = pod::compose_pod_template(converted, false);
        let fs = v::get(save, "frontendSidecar")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        v::put(
            save,
            "podTemplate",
            sparse_template(template, projected.as_ref(), &fs),
        );
    }
    let exp = v::get(src, "experimental");
    if experimental_is_beta_only(exp) {
        v::put_ref(save, "experimental", exp);
    } else if let Some(grove) = exp.and_then(|e| v::get(e, "grove")) {
        v::put(
            save,
            "experimental",
            Some(serde_json::json!({ "grove": grove })),
        );
    }
}

/// The parts of a v1beta1 pod template that the v1alpha1 projection does not reproduce.
fn sparse_template(src: &Value, projected: Option<&Value>, fs: &str) -> Option<Value> {
    let mut meta = v::get(src, "metadata").cloned().unwrap_or_else(v::obj);
    v::put(&mut meta, "labels", None);
    v::put(&mut meta, "annotations", None);
    let meta_save = !shape::sem_zero(Some(&meta), go::object_meta());
    let src_has_main = pod::template_has(Some(src), MAIN);
    let generated_main = projected.is_some() && !src_has_main && pod::template_has(projected, MAIN);
    let empty_marker = projected.is_none() && pod::pod_template_is_zero(Some(src));
    let order_save = projected.is_some() && {
        let mut projected_names = pod::container_names(projected);
        if !src_has_main {
            projected_names.retain(|n| n != MAIN);
        }
        pod::container_names(Some(src)) != projected_names
    };
    let sidecar_key = !fs.is_empty() && pod::template_has(Some(src), fs);
    let containers_ty = go::slice_of(go::container());
    let src_containers = pod::containers(Some(src));
    let fields_save = match projected {
        None => !src_containers.is_empty(),
        Some(p) => !shape::sem_eq(
            v::get(src, "spec").and_then(|s| v::get(s, "containers")),
            v::get(p, "spec").and_then(|s| v::get(s, "containers")),
            &containers_ty,
        ),
    };
    if !meta_save && !generated_main && !empty_marker && !order_save && !sidecar_key && !fields_save
    {
        return None;
    }
    let mut out = v::obj();
    if meta_save {
        v::put(&mut out, "metadata", Some(meta));
    }
    let projected_containers = pod::containers(projected);
    let mut saved_list = Vec::new();
    for c in src_containers {
        let name = v::text(c, "name");
        let found = v::find_named(projected_containers, name);
        let mut saved = serde_json::json!({ "name": name });
        if name.is_empty() {
            saved = v::obj();
        }
        match found {
            Some(p) => save_container_fields(&mut saved, c, p),
            None if !container_has_only_name(c) => saved = c.clone(),
            None => {}
        }
        if order_save
            || name == fs
            || generated_main_key_needs_save(c, found)
            || !container_has_only_name(&saved)
        {
            saved_list.push(saved);
        }
    }
    if !saved_list.is_empty() {
        v::put(
            v::ensure(&mut out, "spec"),
            "containers",
            Some(Value::Array(saved_list)),
        );
    }
    if !meta_save
        && !v::has_items(v::get(&out, "spec").unwrap_or(&Value::Null), "containers")
        && !generated_main
        && !empty_marker
    {
        return None;
    }
    Some(out)
}

fn generated_main_key_needs_save(src: &Value, projected: Option<&Value>) -> bool {
    if v::text(src, "name") != MAIN {
        return false;
    }
    let Some(projected) = projected else {
        return container_has_only_name(src);
    };
    if container_has_only_name(src) {
        return true;
    }
    let src_mounts = v::items(src, "volumeMounts");
    v::items(projected, "volumeMounts")
        .iter()
        .any(|pm| pod::find_matching_mount(src_mounts, pm).is_none())
}

fn save_container_fields(save: &mut Value, src: &Value, projected: &Value) {
    if v::text(src, "name") != MAIN {
        if !shape::sem_eq(Some(src), Some(projected), go::container()) {
            *save = src.clone();
            for key in ["image", "args", "env"] {
                v::put(save, key, None);
            }
            let ty = go::slice_of(go::env_from());
            let same = shape::sem_eq(v::get(src, "envFrom"), v::get(projected, "envFrom"), &ty);
            let env_from = v::get(src, "envFrom")
                .filter(|e| !same && e.as_array().is_some_and(|a| !a.is_empty()));
            v::put_ref(save, "envFrom", env_from);
        }
        return;
    }
    let mounts = v::items(src, "volumeMounts");
    if mounts.is_empty() {
        return;
    }
    let projected_mounts = v::items(projected, "volumeMounts");
    let mount_ty = go::volume_mount();
    let sparse: Vec<Value> = mounts
        .iter()
        .map(|m| match pod::find_matching_mount(projected_mounts, m) {
            Some(p) if shape::sem_eq(Some(m), Some(&p), mount_ty) => {
                let mut out = v::obj();
                v::put_ref(&mut out, "name", v::get(m, "name"));
                v::put_ref(&mut out, "mountPath", v::get(m, "mountPath"));
                out
            }
            _ => m.clone(),
        })
        .collect();
    v::put(save, "volumeMounts", Some(Value::Array(sparse)));
}
