"""Field paths for diagnostics, so plugins never hand-build `spec.services.<svc>...` strings.

Every function takes the service as a `RenderInput` (its `component.service_name`) or a name:

    paths.service(input, "multinode.nodeCount")  # spec.services.decode.multinode.nodeCount
    paths.annotation(input, "example.com/x-mode") # spec.services.decode.annotations[example.com/x-mode]
    paths.main_args(input)                        # spec.services.decode.extraPodSpec.mainContainer.args

Paths into the pod template the plugin received (for `invalid_input` in render) start with
`podTemplate.`: `paths.pod_template("spec.containers")`.
"""

from __future__ import annotations

from .wit import RenderInput

__all__ = [
    "service_name",
    "service",
    "annotation",
    "main_container",
    "main_args",
    "main_command",
    "envs",
    "node_count",
    "gpu_limit",
    "replicas",
    "pod_template",
    "POD_CONTAINERS",
]

POD_CONTAINERS = "podTemplate.spec.containers"
"""The pod template's container list (where a missing `main` container is reported)."""


def service_name(svc: RenderInput | str) -> str:
    """The service name of a render input (a string is returned as is)."""
    return svc.component.service_name if isinstance(svc, RenderInput) else svc


def service(svc: RenderInput | str, suffix: str = "") -> str:
    """`spec.services.<svc>` followed by `.<suffix>` when given."""
    base = f"spec.services.{service_name(svc)}"
    return f"{base}.{suffix}" if suffix else base


def annotation(svc: RenderInput | str, key: str) -> str:
    """`spec.services.<svc>.annotations[<key>]`."""
    return f"{service(svc, 'annotations')}[{key}]"


def main_container(svc: RenderInput | str, field: str = "") -> str:
    """`spec.services.<svc>.extraPodSpec.mainContainer` followed by `.<field>` when given."""
    return service(svc, "extraPodSpec.mainContainer" + (f".{field}" if field else ""))


def main_args(svc: RenderInput | str) -> str:
    """`spec.services.<svc>.extraPodSpec.mainContainer.args`."""
    return main_container(svc, "args")


def main_command(svc: RenderInput | str) -> str:
    """`spec.services.<svc>.extraPodSpec.mainContainer.command`."""
    return main_container(svc, "command")


def envs(svc: RenderInput | str) -> str:
    """`spec.services.<svc>.envs` (the service's environment variables)."""
    return service(svc, "envs")


def node_count(svc: RenderInput | str) -> str:
    """`spec.services.<svc>.multinode.nodeCount`."""
    return service(svc, "multinode.nodeCount")


def gpu_limit(svc: RenderInput | str) -> str:
    """`spec.services.<svc>.resources.limits.gpu`."""
    return service(svc, "resources.limits.gpu")


def replicas(svc: RenderInput | str) -> str:
    """`spec.services.<svc>.replicas`."""
    return service(svc, "replicas")


def pod_template(suffix: str = "") -> str:
    """`podTemplate` followed by `.<suffix>` when given: a field of the pod template received."""
    return f"podTemplate.{suffix}" if suffix else "podTemplate"
