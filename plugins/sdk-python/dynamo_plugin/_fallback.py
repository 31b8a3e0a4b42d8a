"""A stdlib mirror of the componentize-py bindings of `dynamo:backend@0.3.0`, for native runs.

Inside a component the SDK uses the generated `wit_world.imports.types` and
`componentize_py_types` modules. Natively (unit tests under plain CPython, where those modules are
usually not generated, or under Python 3.10, which cannot import them) it uses these classes
instead: the same names, fields, enum values and variant cases, so plugin code and tests cannot
tell the difference. `tests/test_bindings.py` checks this mirror against freshly generated
bindings whenever `componentize-py` is on `PATH`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Generic, List, Optional, TypeVar, Union

T = TypeVar("T")
E = TypeVar("E")


@dataclass
class Some(Generic[T]):
    """The present case of a nested `option` (unused by this contract; mirrored for completeness)."""

    value: T


@dataclass
class Ok(Generic[T]):
    """The success case of a `result`."""

    value: T


@dataclass(frozen=True)
class Err(Generic[E], Exception):
    """The failure case of a `result`; raised by an export to return it."""

    value: E


Result = Union[Ok[T], Err[E]]


@dataclass
class KeyValue:
    """A key/value pair; used for annotations and labels."""

    key: str
    value: str


class PluginKind(Enum):
    """Which kind of plugin this is."""

    BACKEND = 0
    LAUNCHER = 1


@dataclass
class ServingPort:
    """One port an engine listens on."""

    name: str
    number: int


@dataclass
class Serving:
    """What an engine serves."""

    dynamo_runtime: bool
    ports: List[ServingPort]
    health_path: Optional[str]


@dataclass
class Metadata:
    """What a plugin says about itself."""

    name: str
    version: str
    kind: PluginKind
    frameworks: List[str]
    python_modules: List[str]
    multinode_launcher: Optional[str]
    capabilities: List[str]
    serving: Optional[Serving]
    annotation_prefixes: List[str]


class Deployer(Enum):
    """Who places the pods of a multi-node component."""

    NONE = 0
    LWS = 1
    GROVE = 2


class Role(Enum):
    """The role of the pod template being rendered."""

    MAIN = 0
    LEADER = 1
    WORKER = 2


@dataclass
class Placement:
    """Placement facts chosen by the host."""

    deployer: Deployer
    role: Role
    node_count: int
    leader_host: str
    worker_hosts: List[str]
    node_rank: str
    needs_shell: bool
    needs_dns_wait: bool


@dataclass
class Graph:
    """The graph the component belongs to."""

    name: str
    namespace: str
    dynamo_namespace: str
    annotations: List[KeyValue]


@dataclass
class Component:
    """The component being rendered."""

    service_name: str
    component_type: str
    sub_component_type: Optional[str]
    backend_framework: str
    replicas: int
    gpus_per_node: int
    gpu_resource: str
    compilation_cache_path: Optional[str]


@dataclass
class Infrastructure:
    """Operator infrastructure settings."""

    mpi_ssh_secret_name: str
    wait_for_leader_config_map: str


@dataclass
class RenderInput:
    """Everything a render or validate call sees."""

    graph: Graph
    component: Component
    placement: Placement
    infrastructure: Infrastructure
    pod_template: str


@dataclass
class ExtraObject_ConfigMap:
    """A ConfigMap, as JSON text."""

    value: str


@dataclass
class ExtraObject_SshKeySecret:
    """An SSH key-pair Secret the host must ensure."""

    value: str


ExtraObject = Union[ExtraObject_ConfigMap, ExtraObject_SshKeySecret]


@dataclass
class RenderOutput:
    """What a render call returns."""

    pod_template: str
    extra_objects: List[ExtraObject]
    warnings: List[str]


class Severity(Enum):
    """How serious a diagnostic is."""

    ERROR = 0
    WARNING = 1


@dataclass
class Diagnostic:
    """One finding of `validate`."""

    field_path: str
    message: str
    severity: Severity


@dataclass
class PluginError_InvalidInput:
    """The input cannot be rendered."""

    value: Diagnostic


@dataclass
class PluginError_Unsupported:
    """The input asks for something the plugin does not support."""

    value: str


@dataclass
class PluginError_Internal:
    """A bug in the plugin."""

    value: str


PluginError = Union[PluginError_InvalidInput, PluginError_Unsupported, PluginError_Internal]
