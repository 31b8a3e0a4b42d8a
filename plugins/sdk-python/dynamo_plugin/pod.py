"""Helpers on the pod template as a plain dict: the main container, env, volumes, ports, probes.

The contract carries the pod template as JSON text of a Kubernetes `PodTemplateSpec`;
`Plugin.render` parses it (`load`) and hands the body a `dict` in the Kubernetes JSON shape
(camelCase keys), then serializes it back (`dump`). Edit it in place with these helpers; every
other field stays exactly as received. Missing lists (`env`, `volumeMounts`, `volumes`, `ports`,
`args`) are created when first needed; `null` counts as missing.
"""

from __future__ import annotations

import json
from typing import Any

from .diagnostics import invalid_input
from .wit import RenderInput

__all__ = [
    "MAIN",
    "KEEP",
    "load",
    "dump",
    "spec",
    "containers",
    "container",
    "main_container",
    "require_main_container",
    "set_command_if_empty",
    "get_env",
    "has_env",
    "set_env_if_absent",
    "volume",
    "empty_dir_volume",
    "has_mount_at",
    "ensure_volume_and_mount",
    "set_port",
    "replace_probes",
]

MAIN = "main"
"""Name of the main container, the one that runs the engine."""


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
"""Sentinel for `replace_probes`: leave this probe as it is."""


def load(source: RenderInput | str) -> dict:
    """Parses the pod template of a render input (or JSON text) into a dict.

    Raises `invalid_input("podTemplate", ...)` when it is not a JSON object."""
    text = source.pod_template if isinstance(source, RenderInput) else source
    try:
        value = json.loads(text)
    except ValueError as e:
        raise invalid_input("podTemplate", f"not a PodTemplateSpec: {e}") from None
    if not isinstance(value, dict):
        raise invalid_input("podTemplate", "not a PodTemplateSpec: expected a JSON object")
    return value


def dump(pod: dict) -> str:
    """Serializes a pod template dict back to compact JSON text."""
    return json.dumps(pod, separators=(",", ":"), ensure_ascii=False)


def _list(obj: dict, key: str) -> list:
    value = obj.get(key)
    if value is None:
        value = obj[key] = []
    return value


def spec(pod: dict) -> dict:
    """The pod's `spec`, created empty when absent."""
    value = pod.get("spec")
    if value is None:
        value = pod["spec"] = {}
    return value


def containers(pod: dict) -> list:
    """The pod's containers (empty when there are none; nothing is created)."""
    return (pod.get("spec") or {}).get("containers") or []


def container(pod: dict, name: str) -> dict | None:
    """The container named `name`, or None."""
    return next((c for c in containers(pod) if isinstance(c, dict) and c.get("name") == name), None)


def main_container(pod: dict | None) -> dict | None:
    """The main container (named `main`), or None (also when `pod` is None)."""
    return container(pod, MAIN) if pod is not None else None


def require_main_container(pod: dict) -> dict:
    """The main container; raises `invalid_input("podTemplate.spec.containers", ...)` when absent."""
    c = main_container(pod)
    if c is None:
        raise invalid_input("podTemplate.spec.containers", f"no container named `{MAIN}`")
    return c


def set_command_if_empty(c: dict, command: list[str]) -> bool:
    """Sets `command` when it is absent or empty; returns whether it was set."""
    if c.get("command"):
        return False
    c["command"] = list(command)
    return True


def get_env(c: dict | None, name: str) -> dict | None:
    """The env entry named `name` of container `c` (None when absent or when `c` is None)."""
    if c is None:
        return None
    return next((e for e in c.get("env") or [] if isinstance(e, dict) and e.get("name") == name), None)


def has_env(c: dict | None, name: str) -> bool:
    """True when container `c` has an env entry named `name` (literal or `valueFrom`)."""
    return get_env(c, name) is not None


def set_env_if_absent(c: dict, name: str, value: str) -> bool:
    """Appends `{name, value}` to `env` unless a variable of that name exists; returns whether added."""
    if has_env(c, name):
        return False
    _list(c, "env").append({"name": name, "value": value})
    return True


def volume(pod: dict, name: str) -> dict | None:
    """The pod volume named `name`, or None."""
    return next((v for v in (pod.get("spec") or {}).get("volumes") or [] if isinstance(v, dict) and v.get("name") == name), None)


def empty_dir_volume(name: str) -> dict:
    """`{"name": name, "emptyDir": {}}`."""
    return {"name": name, "emptyDir": {}}


def has_mount_at(c: dict | None, mount_path: str) -> bool:
    """True when container `c` has a volume mount whose `mountPath` is `mount_path`."""
    if c is None:
        return False
    return any(isinstance(m, dict) and m.get("mountPath") == mount_path for m in c.get("volumeMounts") or [])


def ensure_volume_and_mount(pod: dict, c: dict, vol: dict, mount_path: str, **mount: Any) -> bool:
    """Mounts volume `vol` at `mount_path` in container `c`, unless something is mounted there.

    Adds `vol` to the end of `spec.volumes` unless a volume of its name exists, and
    `{name, mountPath, **mount}` (e.g. `readOnly=True`) to the end of the container's
    `volumeMounts`. Returns False (and changes nothing) when `c` already mounts `mount_path`."""
    if has_mount_at(c, mount_path):
        return False
    if volume(pod, vol["name"]) is None:
        _list(spec(pod), "volumes").append(vol)
    _list(c, "volumeMounts").append({"name": vol["name"], "mountPath": mount_path, **mount})
    return True


def set_port(c: dict, name: str, number: int, protocol: str | None = None) -> None:
    """Sets container port `name` to `number` (replacing a port of that name, else appending)."""
    entry: dict = {"name": name, "containerPort": number}
    if protocol is not None:
        entry["protocol"] = protocol
    ports = _list(c, "ports")
    for i, p in enumerate(ports):
        if isinstance(p, dict) and p.get("name") == name:
            ports[i] = entry
            return
    ports.append(entry)


def replace_probes(c: dict, *, startup: Any = KEEP, liveness: Any = KEEP, readiness: Any = KEEP) -> None:
    """Replaces the container's probes: a dict sets the probe, None removes it, `KEEP` leaves it."""
    for key, probe in (("startupProbe", startup), ("livenessProbe", liveness), ("readinessProbe", readiness)):
        if probe is KEEP:
            continue
        if probe is None:
            c.pop(key, None)
        else:
            c[key] = probe
