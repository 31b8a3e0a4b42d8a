"""Conversions between the JSON fixture format and the contract's types, in both directions.

The JSON format is the one `dynamo-operator render --plugin-input` writes and conformance vectors
contain: camelCase keys, enums in lowercase, absent options as `null`, and JSON-text fields
(`podTemplate`, ConfigMaps) embedded as JSON values rather than escaped strings:

    {"graph": {"name", "namespace", "dynamoNamespace", "annotations": [{"key", "value"}]},
     "component": {"serviceName", "componentType", "subComponentType", "backendFramework",
                   "replicas", "gpusPerNode", "gpuResource", "compilationCachePath"},
     "placement": {"deployer", "role", "nodeCount", "leaderHost", "workerHosts", "nodeRank",
                   "needsShell", "needsDnsWait"},
     "infrastructure": {"mpiSshSecretName", "waitForLeaderConfigMap"},
     "podTemplate": {...}}

Reading is as lenient as the operator's own reader: any field may be omitted (empty strings and
lists, 0, `null`; placement defaults to a single node: `deployer: none`, `role: main`,
`nodeCount: 1`, `nodeRank: "0"`), unknown keys are ignored, `annotations` may be a plain
`{key: value}` map (read sorted by key) and a JSON-text field may also be given as a string,
kept verbatim. A value of the wrong type raises `FixtureError` naming its path.
"""

from __future__ import annotations

import json
from typing import Any

from .wit import (
    Component,
    Deployer,
    Diagnostic,
    Err,
    ExtraObject_ConfigMap,
    ExtraObject_SshKeySecret,
    Graph,
    Infrastructure,
    KeyValue,
    Metadata,
    Placement,
    PluginError_Internal,
    PluginError_InvalidInput,
    PluginError_Unsupported,
    PluginKind,
    RenderInput,
    RenderOutput,
    Role,
    Serving,
    ServingPort,
    Severity,
)

__all__ = [
    "FixtureError",
    "dump_json_text",
    "load_json_text",
    "input_from_json",
    "input_to_json",
    "output_from_json",
    "output_to_json",
    "error_from_json",
    "error_to_json",
    "diagnostic_from_json",
    "diagnostic_to_json",
    "diagnostics_from_json",
    "diagnostics_to_json",
    "metadata_from_json",
    "metadata_to_json",
]

_U32_MAX = 2**32 - 1


class FixtureError(ValueError):
    """A JSON document is not a valid contract value; `path` names the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


# --- JSON-text fields ------------------------------------------------------------------------


def dump_json_text(value: Any) -> str:
    """Encodes a JSON value as compact JSON text (a string is taken as text already, verbatim)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def load_json_text(text: str) -> Any:
    """Decodes JSON text to its value; text that is not JSON, or encodes a string, stays a string."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return text if isinstance(value, str) else value


# --- field readers ---------------------------------------------------------------------------


def _describe(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, int, float, bool)) or value is None else type(value).__name__


def _section(obj: Any, key: str, path: str) -> dict:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FixtureError(_join(path, key), f"expected an object, got {_describe(value)}")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _str(obj: dict, key: str, path: str, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise FixtureError(_join(path, key), f"expected a string, got {_describe(value)}")
    return value


def _opt_str(obj: dict, key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise FixtureError(_join(path, key), f"expected a string or null, got {_describe(value)}")
    return value


def _u32(obj: dict, key: str, path: str, default: int = 0) -> int:
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U32_MAX:
        raise FixtureError(_join(path, key), f"expected an integer in 0..{_U32_MAX}, got {_describe(value)}")
    return value


def _bool(obj: dict, key: str, path: str) -> bool:
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise FixtureError(_join(path, key), f"expected true or false, got {_describe(value)}")
    return value


def _str_list(obj: dict, key: str, path: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FixtureError(_join(path, key), f"expected a list of strings, got {_describe(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise FixtureError(f"{_join(path, key)}[{i}]", f"expected a string, got {_describe(item)}")
    return list(value)


def _enum(obj: dict, key: str, path: str, enum: Any, default: Any) -> Any:
    value = obj.get(key)
    if value is None:
        return default
    names = [m.name.lower() for m in enum]
    if not isinstance(value, str) or value.lower() not in names:
        raise FixtureError(_join(path, key), f"expected one of {', '.join(names)}, got {_describe(value)}")
    return enum[value.upper()]


def _enum_name(value: Any) -> str:
    return value.name.lower()


def _key_values(obj: dict, key: str, path: str) -> list[KeyValue]:
    value = obj.get(key)
    where = _join(path, key)
    if value is None:
        return []
    if isinstance(value, dict):
        pairs = []
        for k in sorted(value):
            if not isinstance(value[k], str):
                raise FixtureError(f"{where}[{k}]", f"expected a string, got {_describe(value[k])}")
            pairs.append(KeyValue(key=k, value=value[k]))
        return pairs
    if not isinstance(value, list):
        raise FixtureError(where, f"expected a list of {{key, value}} or a map, got {_describe(value)}")
    pairs = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise FixtureError(f"{where}[{i}]", f"expected {{key, value}}, got {_describe(item)}")
        pairs.append(KeyValue(key=_str(item, "key", f"{where}[{i}]"), value=_str(item, "value", f"{where}[{i}]")))
    return pairs


def _root(obj: Any, what: str) -> dict:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise FixtureError("", f"{what}: expected a JSON object, got {_describe(obj)}")
    return obj


# --- render input ----------------------------------------------------------------------------


def input_from_json(obj: Any) -> RenderInput:
    """Builds a `RenderInput` from its JSON form (omitted fields take their defaults)."""
    obj = _root(obj, "render input")
    g = _section(obj, "graph", "")
    c = _section(obj, "component", "")
    p = _section(obj, "placement", "")
    i = _section(obj, "infrastructure", "")
    return RenderInput(
        graph=Graph(
            name=_str(g, "name", "graph"),
            namespace=_str(g, "namespace", "graph"),
            dynamo_namespace=_str(g, "dynamoNamespace", "graph"),
            annotations=_key_values(g, "annotations", "graph"),
        ),
        component=Component(
            service_name=_str(c, "serviceName", "component"),
            component_type=_str(c, "componentType", "component"),
            sub_component_type=_opt_str(c, "subComponentType", "component"),
            backend_framework=_str(c, "backendFramework", "component"),
            replicas=_u32(c, "replicas", "component"),
            gpus_per_node=_u32(c, "gpusPerNode", "component"),
            gpu_resource=_str(c, "gpuResource", "component"),
            compilation_cache_path=_opt_str(c, "compilationCachePath", "component"),
        ),
        placement=Placement(
            deployer=_enum(p, "deployer", "placement", Deployer, Deployer.NONE),
            role=_enum(p, "role", "placement", Role, Role.MAIN),
            node_count=_u32(p, "nodeCount", "placement", 1),
            leader_host=_str(p, "leaderHost", "placement"),
            worker_hosts=_str_list(p, "workerHosts", "placement"),
            node_rank=_str(p, "nodeRank", "placement", "0"),
            needs_shell=_bool(p, "needsShell", "placement"),
            needs_dns_wait=_bool(p, "needsDnsWait", "placement"),
        ),
        infrastructure=Infrastructure(
            mpi_ssh_secret_name=_str(i, "mpiSshSecretName", "infrastructure"),
            wait_for_leader_config_map=_str(i, "waitForLeaderConfigMap", "infrastructure"),
        ),
        pod_template=dump_json_text(obj.get("podTemplate")),
    )


def input_to_json(value: RenderInput) -> dict:
    """The JSON form of a `RenderInput` (every field written, `podTemplate` embedded)."""
    g, c, p, i = value.graph, value.component, value.placement, value.infrastructure
    return {
        "graph": {
            "name": g.name,
            "namespace": g.namespace,
            "dynamoNamespace": g.dynamo_namespace,
            "annotations": [{"key": kv.key, "value": kv.value} for kv in g.annotations],
        },
        "component": {
            "serviceName": c.service_name,
            "componentType": c.component_type,
            "subComponentType": c.sub_component_type,
            "backendFramework": c.backend_framework,
            "replicas": c.replicas,
            "gpusPerNode": c.gpus_per_node,
            "gpuResource": c.gpu_resource,
            "compilationCachePath": c.compilation_cache_path,
        },
        "placement": {
            "deployer": _enum_name(p.deployer),
            "role": _enum_name(p.role),
            "nodeCount": p.node_count,
            "leaderHost": p.leader_host,
            "workerHosts": list(p.worker_hosts),
            "nodeRank": p.node_rank,
            "needsShell": p.needs_shell,
            "needsDnsWait": p.needs_dns_wait,
        },
        "infrastructure": {
            "mpiSshSecretName": i.mpi_ssh_secret_name,
            "waitForLeaderConfigMap": i.wait_for_leader_config_map,
        },
        "podTemplate": load_json_text(value.pod_template),
    }


# --- render output ---------------------------------------------------------------------------


def output_to_json(value: RenderOutput) -> dict:
    """The JSON form of a `RenderOutput` (`podTemplate` and ConfigMaps embedded)."""
    objects: list[dict] = []
    for obj in value.extra_objects:
        if isinstance(obj, ExtraObject_ConfigMap):
            objects.append({"configMap": load_json_text(obj.value)})
        elif isinstance(obj, ExtraObject_SshKeySecret):
            objects.append({"sshKeySecret": obj.value})
        else:
            raise TypeError(f"not an extra object: {obj!r}")
    return {
        "podTemplate": load_json_text(value.pod_template),
        "extraObjects": objects,
        "warnings": list(value.warnings),
    }


def output_from_json(obj: Any) -> RenderOutput:
    """Builds a `RenderOutput` from its JSON form."""
    obj = _root(obj, "render output")
    objects = []
    raw = obj.get("extraObjects") or []
    if not isinstance(raw, list):
        raise FixtureError("extraObjects", f"expected a list, got {_describe(raw)}")
    for n, item in enumerate(raw):
        where = f"extraObjects[{n}]"
        if isinstance(item, dict) and list(item) == ["configMap"]:
            objects.append(ExtraObject_ConfigMap(dump_json_text(item["configMap"])))
        elif isinstance(item, dict) and list(item) == ["sshKeySecret"]:
            objects.append(ExtraObject_SshKeySecret(_str(item, "sshKeySecret", where)))
        else:
            raise FixtureError(where, 'expected {"configMap": {...}} or {"sshKeySecret": "<name>"}')
    return RenderOutput(
        pod_template=dump_json_text(obj.get("podTemplate")),
        extra_objects=objects,
        warnings=_str_list(obj, "warnings", ""),
    )


# --- diagnostics and errors ------------------------------------------------------------------


def diagnostic_to_json(value: Diagnostic) -> dict:
    """`{"fieldPath", "message", "severity"}` of a `Diagnostic`."""
    return {"fieldPath": value.field_path, "message": value.message, "severity": _enum_name(value.severity)}


def diagnostic_from_json(obj: Any, path: str = "") -> Diagnostic:
    """Builds a `Diagnostic` from `{"fieldPath", "message", "severity"}` (severity default `error`)."""
    if not isinstance(obj, dict):
        raise FixtureError(path, f"expected a diagnostic object, got {_describe(obj)}")
    return Diagnostic(
        field_path=_str(obj, "fieldPath", path),
        message=_str(obj, "message", path),
        severity=_enum(obj, "severity", path, Severity, Severity.ERROR),
    )


def diagnostics_to_json(values: list[Diagnostic]) -> list[dict]:
    """The JSON form of a diagnostics list, in order."""
    return [diagnostic_to_json(d) for d in values]


def diagnostics_from_json(obj: Any) -> list[Diagnostic]:
    """Builds a diagnostics list from its JSON form."""
    if not isinstance(obj, list):
        raise FixtureError("", f"expected a list of diagnostics, got {_describe(obj)}")
    return [diagnostic_from_json(d, f"[{n}]") for n, d in enumerate(obj)]


def error_to_json(value: Any) -> dict:
    """The JSON form of a `PluginError` (or of an `Err` carrying one):
    `{"invalidInput": {...}}`, `{"unsupported": "..."}` or `{"internal": "..."}`."""
    if isinstance(value, Err):
        value = value.value
    if isinstance(value, PluginError_InvalidInput):
        return {"invalidInput": diagnostic_to_json(value.value)}
    if isinstance(value, PluginError_Unsupported):
        return {"unsupported": value.value}
    if isinstance(value, PluginError_Internal):
        return {"internal": value.value}
    raise TypeError(f"not a plugin error: {value!r}")


def error_from_json(obj: Any) -> Any:
    """Builds a `PluginError` case from its JSON form."""
    if not isinstance(obj, dict) or len(obj) != 1:
        raise FixtureError("", 'expected exactly one of "invalidInput", "unsupported", "internal"')
    (key, value), = obj.items()
    if key == "invalidInput":
        return PluginError_InvalidInput(diagnostic_from_json(value, "invalidInput"))
    if key in ("unsupported", "internal"):
        if not isinstance(value, str):
            raise FixtureError(key, f"expected a string, got {_describe(value)}")
        return PluginError_Unsupported(value) if key == "unsupported" else PluginError_Internal(value)
    raise FixtureError(key, 'expected one of "invalidInput", "unsupported", "internal"')


# --- metadata --------------------------------------------------------------------------------


def metadata_to_json(value: Metadata) -> dict:
    """The JSON form of a `Metadata` (camelCase, enums in lowercase, `serving` null when absent)."""
    s = value.serving
    return {
        "name": value.name,
        "version": value.version,
        "kind": _enum_name(value.kind),
        "frameworks": list(value.frameworks),
        "pythonModules": list(value.python_modules),
        "multinodeLauncher": value.multinode_launcher,
        "capabilities": list(value.capabilities),
        "serving": None
        if s is None
        else {
            "dynamoRuntime": s.dynamo_runtime,
            "ports": [{"name": p.name, "number": p.number} for p in s.ports],
            "healthPath": s.health_path,
        },
        "annotationPrefixes": list(value.annotation_prefixes),
    }


def metadata_from_json(obj: Any) -> Metadata:
    """Builds a `Metadata` from its JSON form."""
    obj = _root(obj, "metadata")
    serving = None
    if obj.get("serving") is not None:
        s = _section(obj, "serving", "")
        ports = []
        for n, port in enumerate(s.get("ports") or []):
            where = f"serving.ports[{n}]"
            if not isinstance(port, dict):
                raise FixtureError(where, "expected {name, number}")
            ports.append(ServingPort(name=_str(port, "name", where), number=_u32(port, "number", where)))
        serving = Serving(
            dynamo_runtime=_bool(s, "dynamoRuntime", "serving"),
            ports=ports,
            health_path=_opt_str(s, "healthPath", "serving"),
        )
    return Metadata(
        name=_str(obj, "name", ""),
        version=_str(obj, "version", ""),
        kind=_enum(obj, "kind", "", PluginKind, PluginKind.BACKEND),
        frameworks=_str_list(obj, "frameworks", ""),
        python_modules=_str_list(obj, "pythonModules", ""),
        multinode_launcher=_opt_str(obj, "multinodeLauncher", ""),
        capabilities=_str_list(obj, "capabilities", ""),
        serving=serving,
        annotation_prefixes=_str_list(obj, "annotationPrefixes", ""),
    )
