//! Typed access to the pod template a plugin receives and returns.
//!
//! The contract carries the pod template as JSON text of a Kubernetes `PodTemplateSpec`;
//! [`PodTemplate`] parses it into the `k8s-openapi` types, gives typed access to the parts plugins
//! edit (the `main` container, annotations, labels, volumes) and serializes it back.
//!
//! The helpers that change the main container together with the pod (a volume and its mount) or
//! replace parts of it by name (ports, probes, env) are methods of [`PodTemplate`], so a plugin
//! does not hold a borrow of the main container while it edits the pod:
//!
//! ```
//! use dynamo_plugin_sdk::PodTemplate;
//! use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{EmptyDirVolumeSource, Volume, VolumeMount};
//!
//! let mut pod = PodTemplate::from_json(r#"{"spec":{"containers":[{"name":"main"}]}}"#)?;
//! let volume = Volume {
//!     name: "cache".into(),
//!     empty_dir: Some(EmptyDirVolumeSource::default()),
//!     ..Volume::default()
//! };
//! let mount = VolumeMount {
//!     name: "cache".into(),
//!     mount_path: "/cache".into(),
//!     ..VolumeMount::default()
//! };
//! assert!(pod.ensure_volume_and_mount(volume.clone(), mount.clone())?);
//! assert!(!pod.ensure_volume_and_mount(volume, mount)?, "already mounted at /cache");
//! assert!(pod.has_mount_at("/cache"));
//! assert!(pod.set_env_if_absent("HF_HOME", "/cache")?);
//! # Ok::<(), dynamo_plugin_sdk::PluginError>(())
//! ```

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, PodSpec, PodTemplateSpec, Probe, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::{PluginError, RenderInput};

/// Name of the main container, the one that runs the engine.
pub const MAIN_CONTAINER: &str = "main";

/// A parsed `PodTemplateSpec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodTemplate(PodTemplateSpec);

impl PodTemplate {
    /// Parses JSON text of a `PodTemplateSpec`; a parse failure is [`PluginError::InvalidInput`].
    pub fn from_json(text: &str) -> Result<Self, PluginError> {
        serde_json::from_str(text).map(Self).map_err(|e| {
            PluginError::invalid_input("podTemplate", format!("not a PodTemplateSpec: {e}"))
        })
    }

    /// Parses the pod template of a render input.
    pub fn from_input(input: &RenderInput) -> Result<Self, PluginError> {
        Self::from_json(&input.pod_template)
    }

    /// Serializes back to JSON text; failure (never expected) is [`PluginError::Internal`].
    pub fn to_json(&self) -> Result<String, PluginError> {
        serde_json::to_string(&self.0)
            .map_err(|e| PluginError::internal(format!("cannot serialize the pod template: {e}")))
    }

    /// The underlying `PodTemplateSpec`.
    pub fn inner(&self) -> &PodTemplateSpec {
        &self.0
    }

    /// The underlying `PodTemplateSpec`, mutably.
    pub fn inner_mut(&mut self) -> &mut PodTemplateSpec {
        &mut self.0
    }

    /// Consumes the wrapper.
    pub fn into_inner(self) -> PodTemplateSpec {
        self.0
    }

    /// The pod metadata, created empty when absent.
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        self.0.metadata.get_or_insert_with(ObjectMeta::default)
    }

    /// The pod annotations, created empty when absent.
    pub fn annotations_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.metadata_mut()
            .annotations
            .get_or_insert_with(BTreeMap::new)
    }

    /// The pod labels, created empty when absent.
    pub fn labels_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.metadata_mut().labels.get_or_insert_with(BTreeMap::new)
    }

    /// The pod spec, if any.
    pub fn spec(&self) -> Option<&PodSpec> {
        self.0.spec.as_ref()
    }

    /// The pod spec, created empty when absent.
    pub fn spec_mut(&mut self) -> &mut PodSpec {
        self.0.spec.get_or_insert_with(PodSpec::default)
    }

    /// The container named `name`, if any.
    pub fn container(&self, name: &str) -> Option<&Container> {
        self.spec()?.containers.iter().find(|c| c.name == name)
    }

    /// The container named `name`, mutably, if any.
    pub fn container_mut(&mut self, name: &str) -> Option<&mut Container> {
        self.0
            .spec
            .as_mut()?
            .containers
            .iter_mut()
            .find(|c| c.name == name)
    }

    /// The main container (named [`MAIN_CONTAINER`]), if any.
    pub fn main_container(&self) -> Option<&Container> {
        self.container(MAIN_CONTAINER)
    }

    /// The main container, mutably; its absence is [`PluginError::InvalidInput`] at
    /// `podTemplate.spec.containers`: ``no container named `main` ``.
    pub fn main_container_mut(&mut self) -> Result<&mut Container, PluginError> {
        self.container_mut(MAIN_CONTAINER)
            .ok_or_else(no_main_container)
    }

    /// The main container and the pod's volume list together, both mutable (the list stays
    /// `None` when the pod has none; create it with `get_or_insert_with(Vec::new)` only when
    /// adding). The main container's absence is an error as in [`Self::main_container_mut`].
    pub fn main_container_and_volumes_mut(
        &mut self,
    ) -> Result<(&mut Container, &mut Option<Vec<Volume>>), PluginError> {
        let spec = self.0.spec.as_mut().ok_or_else(no_main_container)?;
        let PodSpec {
            containers,
            volumes,
            ..
        } = spec;
        let main = containers
            .iter_mut()
            .find(|c| c.name == MAIN_CONTAINER)
            .ok_or_else(no_main_container)?;
        Ok((main, volumes))
    }

    /// The pod volume named `name`, if any.
    pub fn volume(&self, name: &str) -> Option<&Volume> {
        self.spec()?
            .volumes
            .as_ref()?
            .iter()
            .find(|v| v.name == name)
    }

    /// True when the main container has a volume mount whose `mountPath` is `path` (false
    /// without a main container).
    pub fn has_mount_at(&self, path: &str) -> bool {
        self.main_container().is_some_and(|c| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path == path)
        })
    }

    /// Mounts `volume` into the main container at `mount`, unless something is mounted at
    /// `mount.mount_path` already; returns whether anything changed.
    ///
    /// The volume is appended to the pod's `volumes` (creating the list) unless a volume of the
    /// same name exists, which is then used as it is; the mount is appended to the main
    /// container's `volumeMounts` (creating the list). The main container's absence is an error
    /// as in [`Self::main_container_mut`], checked before anything changes.
    pub fn ensure_volume_and_mount(
        &mut self,
        volume: Volume,
        mount: VolumeMount,
    ) -> Result<bool, PluginError> {
        let (main, volumes) = self.main_container_and_volumes_mut()?;
        if main
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == mount.mount_path)
        {
            return Ok(false);
        }
        main.volume_mounts.get_or_insert_with(Vec::new).push(mount);
        let volumes = volumes.get_or_insert_with(Vec::new);
        if !volumes.iter().any(|v| v.name == volume.name) {
            volumes.push(volume);
        }
        Ok(true)
    }

    /// Sets a port of the main container: replaces the port of the same name (for an unnamed
    /// port: of the same number and protocol, an absent protocol meaning `TCP`) in place, else
    /// appends it (creating `ports`).
    pub fn set_port(&mut self, port: ContainerPort) -> Result<(), PluginError> {
        let main = self.main_container_mut()?;
        let ports = main.ports.get_or_insert_with(Vec::new);
        let protocol = |p: &ContainerPort| p.protocol.clone().unwrap_or_else(|| "TCP".to_owned());
        let same = |p: &ContainerPort| match &port.name {
            Some(name) => p.name.as_ref() == Some(name),
            None => {
                p.name.is_none()
                    && p.container_port == port.container_port
                    && protocol(p) == protocol(&port)
            }
        };
        match ports.iter_mut().find(|p| same(p)) {
            Some(slot) => *slot = port,
            None => ports.push(port),
        }
        Ok(())
    }

    /// Replaces the main container's startup, liveness and readiness probes with the ones given
    /// (`None` removes that probe).
    pub fn replace_probes(
        &mut self,
        startup: Option<Probe>,
        liveness: Option<Probe>,
        readiness: Option<Probe>,
    ) -> Result<(), PluginError> {
        let main = self.main_container_mut()?;
        main.startup_probe = startup;
        main.liveness_probe = liveness;
        main.readiness_probe = readiness;
        Ok(())
    }

    /// The main container's environment variable `name` (the first of that name), if any.
    pub fn main_env(&self, name: &str) -> Option<&EnvVar> {
        self.main_container()?
            .env
            .as_ref()?
            .iter()
            .find(|v| v.name == name)
    }

    /// Appends the literal variable `name=value` to the main container's `env` (creating it)
    /// unless a variable of that name is there already, whatever its value or source; returns
    /// whether it was added.
    pub fn set_env_if_absent(
        &mut self,
        name: &str,
        value: impl Into<String>,
    ) -> Result<bool, PluginError> {
        let main = self.main_container_mut()?;
        if main.env.iter().flatten().any(|v| v.name == name) {
            return Ok(false);
        }
        main.env
            .get_or_insert_with(Vec::new)
            .push(crate::env::env_var(name, value));
        Ok(true)
    }

    /// The argv of the main container (`command` followed by `args`), empty when absent.
    pub fn main_argv(&self) -> Vec<String> {
        self.main_container()
            .map(container_argv)
            .unwrap_or_default()
    }
}

/// The error of a pod template without a main container.
fn no_main_container() -> PluginError {
    crate::field::Field::pod_containers()
        .invalid_input(format!("no container named `{MAIN_CONTAINER}`"))
}

impl From<PodTemplateSpec> for PodTemplate {
    fn from(spec: PodTemplateSpec) -> Self {
        Self(spec)
    }
}

/// A container's argv: its `command` followed by its `args` (either may be absent).
pub fn container_argv(c: &Container) -> Vec<String> {
    c.command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[
        {"name":"sidecar","image":"s"},
        {"name":"main","image":"m","command":["python3","-m","dynamo.vllm"],"args":["--model","q"]}]}}"#;

    #[test]
    fn main_container_is_found_by_name() {
        let mut pod = PodTemplate::from_json(POD).expect("parses");
        assert_eq!(
            pod.main_argv(),
            ["python3", "-m", "dynamo.vllm", "--model", "q"]
        );
        pod.main_container_mut().expect("main").image = Some("new".into());
        pod.annotations_mut().insert("a".into(), "b".into());
        let back = PodTemplate::from_json(&pod.to_json().expect("serializes")).expect("parses");
        assert_eq!(
            back.main_container().and_then(|c| c.image.as_deref()),
            Some("new")
        );
        assert_eq!(
            back.container("sidecar").and_then(|c| c.image.as_deref()),
            Some("s")
        );
        assert_eq!(back, pod);
    }

    #[test]
    fn errors_name_the_field() {
        let err = PodTemplate::from_json("[1]").expect_err("not an object");
        assert!(matches!(&err, PluginError::InvalidInput(d) if d.field_path == "podTemplate"));
        let mut empty = PodTemplate::from_json("{}").expect("parses");
        assert!(empty.main_argv().is_empty());
        let err = empty.main_container_mut().expect_err("no main");
        assert!(err.to_string().contains("main"), "{err}");
        empty.spec_mut().containers.push(Container {
            name: MAIN_CONTAINER.into(),
            ..Container::default()
        });
        assert!(empty.main_container_mut().is_ok());
    }

    fn main_only() -> PodTemplate {
        PodTemplate::from_json(r#"{"spec":{"containers":[{"name":"main"}]}}"#).expect("parses")
    }

    fn volume(name: &str) -> Volume {
        Volume {
            name: name.into(),
            empty_dir: Some(Default::default()),
            ..Volume::default()
        }
    }

    fn mount(name: &str, path: &str) -> VolumeMount {
        VolumeMount {
            name: name.into(),
            mount_path: path.into(),
            ..VolumeMount::default()
        }
    }

    #[test]
    fn volume_and_mount_are_added_together_once() {
        let mut pod = main_only();
        assert!(!pod.has_mount_at("/data"));
        assert!(
            pod.ensure_volume_and_mount(volume("d"), mount("d", "/data"))
                .expect("main")
        );
        assert!(pod.has_mount_at("/data"));
        assert!(pod.volume("d").is_some());
        assert!(
            !pod.ensure_volume_and_mount(volume("other"), mount("other", "/data"))
                .expect("main"),
            "something is mounted at /data already"
        );
        assert!(pod.volume("other").is_none());
        // A second path for an existing volume name: the volume is not added twice.
        assert!(
            pod.ensure_volume_and_mount(volume("d"), mount("d", "/more"))
                .expect("main")
        );
        let spec = pod.spec().expect("spec");
        assert_eq!(spec.volumes.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            pod.main_container()
                .and_then(|c| c.volume_mounts.as_ref())
                .map(Vec::len),
            Some(2)
        );

        let mut empty = PodTemplate::default();
        let err = empty
            .ensure_volume_and_mount(volume("d"), mount("d", "/data"))
            .expect_err("no main");
        assert!(
            matches!(&err, PluginError::InvalidInput(d) if d.field_path == "podTemplate.spec.containers"
                && d.message == "no container named `main`"),
            "{err:?}"
        );
        assert_eq!(empty, PodTemplate::default(), "nothing changed");
        assert!(!empty.has_mount_at("/data"));
    }

    #[test]
    fn split_borrow_of_main_and_volumes() {
        let mut pod = main_only();
        let (main, volumes) = pod.main_container_and_volumes_mut().expect("main");
        main.image = Some("i".into());
        assert!(volumes.is_none());
        volumes.get_or_insert_with(Vec::new).push(volume("v"));
        assert!(pod.volume("v").is_some());
        assert!(
            PodTemplate::default()
                .main_container_and_volumes_mut()
                .is_err()
        );
    }

    #[test]
    fn ports_are_replaced_by_name_or_appended() {
        let port = |name: Option<&str>, number: i32| ContainerPort {
            name: name.map(str::to_owned),
            container_port: number,
            ..ContainerPort::default()
        };
        let mut pod = main_only();
        pod.set_port(port(Some("http"), 8080)).expect("main");
        pod.set_port(port(Some("metrics"), 9000)).expect("main");
        pod.set_port(port(Some("http"), 80)).expect("main");
        pod.set_port(port(None, 7000)).expect("main");
        pod.set_port(ContainerPort {
            protocol: Some("TCP".into()),
            ..port(None, 7000)
        })
        .expect("main");
        pod.set_port(ContainerPort {
            protocol: Some("UDP".into()),
            ..port(None, 7000)
        })
        .expect("main");
        let ports: Vec<(Option<String>, i32, Option<String>)> = pod
            .main_container()
            .and_then(|c| c.ports.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.name, p.container_port, p.protocol))
            .collect();
        assert_eq!(
            ports,
            [
                (Some("http".into()), 80, None),
                (Some("metrics".into()), 9000, None),
                (None, 7000, Some("TCP".into())),
                (None, 7000, Some("UDP".into())),
            ]
        );
        assert!(PodTemplate::default().set_port(port(None, 1)).is_err());
    }

    #[test]
    fn probes_are_replaced_together() {
        let probe = |period| Probe {
            period_seconds: Some(period),
            ..Probe::default()
        };
        let mut pod = main_only();
        pod.main_container_mut().expect("main").readiness_probe = Some(probe(1));
        pod.replace_probes(Some(probe(2)), Some(probe(3)), None)
            .expect("main");
        let main = pod.main_container().expect("main");
        assert_eq!(main.startup_probe, Some(probe(2)));
        assert_eq!(main.liveness_probe, Some(probe(3)));
        assert_eq!(main.readiness_probe, None);
        assert!(
            PodTemplate::default()
                .replace_probes(None, None, None)
                .is_err()
        );
    }

    #[test]
    fn env_is_set_only_when_absent() {
        let mut pod = PodTemplate::from_json(
            r#"{"spec":{"containers":[{"name":"main","env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]}]}}"#,
        )
        .expect("parses");
        assert!(!pod.set_env_if_absent("A", "1").expect("main"));
        assert!(pod.set_env_if_absent("B", "2").expect("main"));
        assert!(!pod.set_env_if_absent("B", "3").expect("main"));
        assert_eq!(
            pod.main_env("B").and_then(|v| v.value.as_deref()),
            Some("2")
        );
        assert!(pod.main_env("A").is_some_and(|v| v.value_from.is_some()));
        assert!(pod.main_env("C").is_none());
        let mut bare = main_only();
        assert!(bare.set_env_if_absent("X", "1").expect("main"));
        assert_eq!(
            bare.main_container()
                .and_then(|c| c.env.as_ref())
                .map(Vec::len),
            Some(1)
        );
        assert!(PodTemplate::default().set_env_if_absent("X", "1").is_err());
    }
}
