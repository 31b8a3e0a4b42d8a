//! Projection between v1alpha1's pod knobs and v1beta1's pod template.
//!
//! v1alpha1 describes a component's pod with dedicated fields (`resources`, `envs`,
//! `envFromSecret`, probes, `volumeMounts`, `extraPodMetadata`, `extraPodSpec` with its
//! `mainContainer`, `frontendSidecar`); v1beta1 with one `podTemplate` whose container `main`
//! receives what the dedicated fields said. This module composes that template the way Dynamo's
//! v1alpha1 renderer merged the fields (dedicated fields first, `extraPodSpec.mainContainer`
//! overriding them, env merged by name, the main container's own mounts before the dedicated
//! ones) and holds the predicates both directions share.

use serde_json::{Map, Value};

use crate::shape::{self, Quantity};
use crate::value::{self as v, go};

/// The container of a v1beta1 pod template that receives the operator's defaults.
pub(crate) const MAIN: &str = "main";
/// The container a v1alpha1 `frontendSidecar` becomes.
pub(crate) const FRONTEND_SIDECAR: &str = "sidecar-frontend";
/// The resource name of a v1alpha1 `gpu` without `gpuType`.
pub(crate) const DEFAULT_GPU: &str = "nvidia.com/gpu";

// === container predicates ===

/// Whether a container sets nothing but (possibly) its name.
pub(crate) fn container_is_empty(c: Option<&Value>) -> bool {
    let Some(c) = c else { return true };
    let mut copy = c.clone();
    v::put(&mut copy, "name", None);
    shape::sem_zero(Some(&copy), go::container())
}

/// Whether a pod spec sets nothing.
pub(crate) fn pod_spec_is_zero(p: Option<&Value>) -> bool {
    p.is_none_or(|p| shape::sem_zero(Some(p), go::pod_spec()))
}

/// Whether a pod template is present and sets nothing.
pub(crate) fn pod_template_is_zero(p: Option<&Value>) -> bool {
    p.is_some_and(|p| shape::sem_zero(Some(p), go::pod_template()))
}

/// The pod spec part of a v1alpha1 `extraPodSpec` (everything but `mainContainer`), if any of
/// it is set.
pub(crate) fn extra_pod_spec_pod(eps: &Value) -> Option<Value> {
    let mut pod = eps.as_object()?.clone();
    pod.remove("mainContainer");
    (!pod.is_empty()).then_some(Value::Object(pod))
}

/// Whether an `extraPodSpec` sets nothing.
pub(crate) fn extra_pod_spec_is_zero(eps: Option<&Value>) -> bool {
    let Some(eps) = eps else { return true };
    pod_spec_is_zero(extra_pod_spec_pod(eps).as_ref())
        && container_is_empty(v::get(eps, "mainContainer"))
}

/// Whether an `extraPodSpec` exists only to carry its main container's name.
pub(crate) fn extra_pod_spec_only_names_main(eps: Option<&Value>) -> bool {
    let Some(eps) = eps else { return false };
    let Some(main) = v::get(eps, "mainContainer") else {
        return false;
    };
    !v::text(main, "name").is_empty()
        && pod_spec_is_zero(extra_pod_spec_pod(eps).as_ref())
        && container_is_empty(Some(main))
}

/// Whether an `extraPodSpec` cannot be rebuilt from a pod template: empty, or only a name.
pub(crate) fn extra_pod_spec_needs_preservation(eps: Option<&Value>) -> bool {
    eps.is_some() && (extra_pod_spec_is_zero(eps) || extra_pod_spec_only_names_main(eps))
}

/// Whether the `extraPodSpec` pod spec declares a container `name`.
pub(crate) fn extra_pod_spec_has_container(eps: Option<&Value>, name: &str) -> bool {
    eps.is_some_and(|e| v::has_named(v::items(e, "containers"), name))
}

// === resources ===

/// v1alpha1 `resources` as native resource requirements (unparsable quantities dropped).
pub(crate) fn resources_to_native(r: &Value) -> Value {
    let mut out = v::obj();
    if let Some(claims) = v::get(r, "claims") {
        v::put_ref(&mut out, "claims", Some(claims));
    }
    for side in ["requests", "limits"] {
        if let Some(item) = v::get(r, side) {
            v::put(&mut out, side, item_to_list(item));
        }
    }
    out
}

fn item_to_list(item: &Value) -> Option<Value> {
    let mut out = Map::new();
    let mut add = |key: &str, text: &str| {
        if let Ok(q) = Quantity::parse(text) {
            out.insert(key.to_string(), Value::String(q.canonical()));
        }
    };
    for key in ["cpu", "memory"] {
        let t = v::text(item, key);
        if !t.is_empty() {
            add(key, t);
        }
    }
    let gpu = v::text(item, "gpu");
    if !gpu.is_empty() {
        let kind = match v::text(item, "gpuType") {
            "" => DEFAULT_GPU,
            other => other,
        };
        add(kind, gpu);
    }
    if let Some(Value::Object(custom)) = v::get(item, "custom") {
        for (k, val) in custom {
            add(k, val.as_str().unwrap_or(""));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Native resource requirements as v1alpha1 `resources`; `None` when they set nothing.
pub(crate) fn resources_from_native(r: Option<&Value>) -> Option<Value> {
    let r = r?;
    let mut out = v::obj();
    for side in ["requests", "limits"] {
        v::put(&mut out, side, list_to_item(v::get(r, side)));
    }
    if let Some(claims) = v::get(r, "claims") {
        v::put_ref(&mut out, "claims", Some(claims));
    }
    let empty = v::get(&out, "requests").is_none()
        && v::get(&out, "limits").is_none()
        && !v::has_items(&out, "claims");
    (!empty).then_some(out)
}

fn list_to_item(list: Option<&Value>) -> Option<Value> {
    let Some(Value::Object(list)) = list else {
        return None;
    };
    if list.is_empty() {
        return None;
    }
    let mut out = v::obj();
    for (name, q) in list {
        let text = Value::String(q.as_str().unwrap_or("0").to_string());
        match name.as_str() {
            "cpu" => v::put(&mut out, "cpu", Some(text)),
            "memory" => v::put(&mut out, "memory", Some(text)),
            DEFAULT_GPU => v::put(&mut out, "gpu", Some(text)),
            other => {
                v::ensure(&mut out, "custom")
                    .as_object_mut()
                    .map(|c| c.insert(other.to_string(), text));
            }
        }
    }
    // Strings that are zero-length are not "set" in Go; canonical form drops them.
    for key in ["cpu", "memory", "gpu"] {
        if v::text(&out, key).is_empty() {
            v::put(&mut out, key, None);
        }
    }
    Some(out)
}

/// Whether v1alpha1 `resources` do not survive a trip through native requirements unchanged.
pub(crate) fn resources_need_preservation(r: Option<&Value>) -> bool {
    let Some(r) = r else { return false };
    let round = resources_from_native(Some(&resources_to_native(r)));
    round.as_ref() != Some(&canonical_alpha_resources(r))
}

fn canonical_alpha_resources(r: &Value) -> Value {
    let mut path = Vec::new();
    shape::decode(r, &go::ptr_of(go::alpha_resources()), &mut path)
        .ok()
        .flatten()
        .unwrap_or_else(v::obj)
}

/// Whether two native resource requirements are semantically equal.
pub(crate) fn requirements_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    shape::sem_eq(a, b, go::resource_requirements())
}

// === env and mounts ===

/// Concatenates two env lists, the second replacing same-named entries of the first in place.
pub(crate) fn merge_envs(common: &[Value], specific: &[Value]) -> Option<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(common.len() + specific.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in common {
        seen.insert(v::text(e, "name").to_string(), out.len());
        out.push(e.clone());
    }
    for e in specific {
        let name = v::text(e, "name").to_string();
        match seen.get(&name) {
            Some(&i) => out[i] = e.clone(),
            None => {
                seen.insert(name, out.len());
                out.push(e.clone());
            }
        }
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// A v1alpha1 volume mount as a native one.
pub(crate) fn mount_to_native(m: &Value) -> Value {
    let mut out = v::obj();
    v::put_ref(&mut out, "name", v::get(m, "name"));
    v::put_ref(&mut out, "mountPath", v::get(m, "mountPoint"));
    out
}

/// Native volume mounts as v1alpha1 ones (name and path only).
pub(crate) fn mounts_from_native(mounts: &[Value]) -> Vec<Value> {
    mounts
        .iter()
        .map(|m| {
            let mut out = v::obj();
            v::put_ref(&mut out, "name", v::get(m, "name"));
            v::put_ref(&mut out, "mountPoint", v::get(m, "mountPath"));
            out
        })
        .collect()
}

/// Whether a v1alpha1 mount list has `name` at `path`.
pub(crate) fn flat_has(mounts: &[Value], name: &str, path: &str) -> bool {
    mounts
        .iter()
        .any(|m| v::text(m, "name") == name && v::text(m, "mountPoint") == path)
}

/// Whether a native mount list has `name` at `path`.
pub(crate) fn native_has(mounts: &[Value], name: &str, path: &str) -> bool {
    mounts
        .iter()
        .any(|m| v::text(m, "name") == name && v::text(m, "mountPath") == path)
}

/// Appends the v1alpha1 mounts of `add` that `dst` does not have yet (by name and path).
pub(crate) fn append_missing_mounts(dst: &mut Vec<Value>, add: &[Value]) {
    for m in add {
        if !flat_has(dst, v::text(m, "name"), v::text(m, "mountPoint")) {
            dst.push(m.clone());
        }
    }
}

/// Whether v1alpha1 mounts survive v1beta1: at most one of them is a compilation cache.
pub(crate) fn mounts_round_trip(mounts: &[Value]) -> bool {
    mounts
        .iter()
        .filter(|m| v::flag(m, "useAsCompilationCache"))
        .count()
        <= 1
}

/// The native mount in `mounts` matching `mount`: same name and path, else the only one with the
/// same name.
pub(crate) fn find_matching_mount(mounts: &[Value], mount: &Value) -> Option<Value> {
    let (name, path) = (v::text(mount, "name"), v::text(mount, "mountPath"));
    if let Some(m) = mounts
        .iter()
        .find(|m| v::text(m, "name") == name && v::text(m, "mountPath") == path)
    {
        return Some(m.clone());
    }
    let mut same_name = mounts.iter().filter(|m| v::text(m, "name") == name);
    let first = same_name.next()?;
    same_name.next().is_none().then(|| first.clone())
}

/// A `[{secretRef: {name}}]` env-from list.
pub(crate) fn secret_env_from(name: &str) -> Value {
    serde_json::json!([{ "secretRef": { "name": name } }])
}

// === composing the pod template ===

/// The main container the dedicated v1alpha1 fields describe.
pub(crate) fn main_from_dedicated(src: &Value) -> Value {
    let mut c = v::obj();
    v::put(&mut c, "name", Some(Value::from(MAIN)));
    if let Some(r) = v::get(src, "resources") {
        let native = resources_to_native(r);
        if !native.as_object().is_some_and(Map::is_empty) {
            v::put(&mut c, "resources", Some(native));
        }
    }
    if v::has_items(src, "envs") {
        v::put_ref(&mut c, "env", v::get(src, "envs"));
    }
    if let Some(secret) = v::get(src, "envFromSecret").and_then(Value::as_str)
        && !secret.is_empty()
    {
        v::put(&mut c, "envFrom", Some(secret_env_from(secret)));
    }
    v::put_ref(&mut c, "livenessProbe", v::get(src, "livenessProbe"));
    v::put_ref(&mut c, "readinessProbe", v::get(src, "readinessProbe"));
    let mounts: Vec<Value> = v::items(src, "volumeMounts")
        .iter()
        .map(mount_to_native)
        .collect();
    if !mounts.is_empty() {
        v::put(&mut c, "volumeMounts", Some(Value::Array(mounts)));
    }
    c
}

/// Lays `extraPodSpec.mainContainer` over the main container built from dedicated fields.
pub(crate) fn merge_main_container(src: &Value, base: &mut Value) {
    let Some(main) = v::get(src, "extraPodSpec").and_then(|e| v::get(e, "mainContainer")) else {
        return;
    };
    let mut main = main.clone();
    let base_env: Vec<Value> = v::items(base, "env").to_vec();
    let dedicated_mounts: Vec<Value> = v::items(base, "volumeMounts").to_vec();
    v::put(&mut main, "name", Some(Value::from(MAIN)));
    shape::merge_override(base, &main, go::container());
    v::put(base, "env", merge_envs(&base_env, v::items(&main, "env")));
    let mut mounts: Vec<Value> = v::items(&main, "volumeMounts").to_vec();
    mounts.extend(dedicated_mounts);
    v::put(
        base,
        "volumeMounts",
        (!mounts.is_empty()).then_some(Value::Array(mounts)),
    );
    if let Some(probe) = v::get(&main, "startupProbe") {
        v::put_ref(base, "startupProbe", Some(probe));
    }
}

/// The main container a v1alpha1 component means: dedicated fields, then its main container.
pub(crate) fn semantic_main(src: &Value) -> Value {
    let mut main = main_from_dedicated(src);
    merge_main_container(src, &mut main);
    v::put(&mut main, "name", Some(Value::from(MAIN)));
    main
}

/// Whether a v1alpha1 mount list has one that is not a compilation cache.
fn has_template_mounts(mounts: &[Value]) -> bool {
    mounts.iter().any(|m| !v::flag(m, "useAsCompilationCache"))
}

/// Whether some v1alpha1 field belongs in a pod template.
pub(crate) fn has_pod_template_content(src: &Value, template_origin: bool) -> bool {
    v::get(src, "resources").is_some()
        || v::has_items(src, "envs")
        || v::get(src, "envFromSecret").is_some()
        || has_template_mounts(v::items(src, "volumeMounts"))
        || v::get(src, "livenessProbe").is_some()
        || v::get(src, "readinessProbe").is_some()
        || !extra_pod_spec_is_zero(v::get(src, "extraPodSpec"))
        || v::get(src, "extraPodMetadata").is_some()
        || v::get(src, "frontendSidecar").is_some()
        || template_origin
}

/// The v1beta1 pod template a v1alpha1 component describes, if it describes one.
pub(crate) fn compose_pod_template(src: &Value, template_origin: bool) -> Option<Value> {
    if !has_pod_template_content(src, template_origin) {
        return None;
    }
    let mut template = v::obj();
    if let Some(meta) = v::get(src, "extraPodMetadata") {
        for key in ["annotations", "labels"] {
            if v::has_items(meta, key) {
                v::put_ref(v::ensure(&mut template, "metadata"), key, v::get(meta, key));
            }
        }
    }
    let mut spec = v::get(src, "extraPodSpec")
        .and_then(extra_pod_spec_pod)
        .unwrap_or_else(v::obj);
    let mut main = main_from_dedicated(src);
    merge_main_container(src, &mut main);
    v::put(&mut main, "name", Some(Value::from(MAIN)));
    let mut containers = vec![main];
    containers.extend(
        v::items(&spec, "containers")
            .iter()
            .filter(|c| v::text(c, "name") != MAIN)
            .cloned(),
    );
    if let Some(fs) = v::get(src, "frontendSidecar")
        && !v::has_named(&containers, FRONTEND_SIDECAR)
    {
        containers.push(frontend_sidecar_container(fs));
    }
    v::put(&mut spec, "containers", Some(Value::Array(containers)));
    v::put(&mut template, "spec", Some(spec));
    Some(template)
}

/// The container a v1alpha1 `frontendSidecar` stands for.
pub(crate) fn frontend_sidecar_container(fs: &Value) -> Value {
    let mut c = v::obj();
    v::put(&mut c, "name", Some(Value::from(FRONTEND_SIDECAR)));
    v::put_ref(&mut c, "image", v::get(fs, "image"));
    v::put_ref(&mut c, "args", v::get(fs, "args"));
    v::put_ref(&mut c, "env", v::get(fs, "envs"));
    if let Some(secret) = v::get(fs, "envFromSecret").and_then(Value::as_str)
        && !secret.is_empty()
    {
        v::put(&mut c, "envFrom", Some(secret_env_from(secret)));
    }
    c
}

/// The containers of a pod template.
pub(crate) fn containers(template: Option<&Value>) -> &[Value] {
    template
        .and_then(|t| v::get(t, "spec"))
        .map_or(&[], |s| v::items(s, "containers"))
}

/// The containers of a pod template, for editing (created if absent).
pub(crate) fn containers_mut(template: &mut Value) -> &mut Vec<Value> {
    let spec = v::ensure(template, "spec");
    v::ensure_list(spec, "containers")
}

/// Whether a pod template has a container `name`.
pub(crate) fn template_has(template: Option<&Value>, name: &str) -> bool {
    v::has_named(containers(template), name)
}

/// The names of a pod template's containers, in order.
pub(crate) fn container_names(template: Option<&Value>) -> Vec<String> {
    containers(template)
        .iter()
        .map(|c| v::text(c, "name").to_string())
        .collect()
}

/// Drops the empty `spec.containers` (and then empty `spec`) that editing through
/// [`containers_mut`] may leave, as a Go nil slice in a zero struct prints nothing.
pub(crate) fn tidy_containers_if_absent(template: &mut Value) {
    if let Some(spec) = v::get_mut(template, "spec") {
        if spec
            .get("containers")
            .is_some_and(|c| c.as_array().is_some_and(Vec::is_empty))
        {
            v::put(spec, "containers", None);
        }
        if spec.as_object().is_some_and(Map::is_empty) {
            v::put(template, "spec", None);
        }
    }
}
