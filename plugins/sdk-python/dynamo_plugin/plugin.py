"""The `Plugin` base class a plugin subclasses, and `export`, which makes it componentize-py's `WitWorld`.

    from dynamo_plugin import Plugin, export, plugin_metadata

    class Echo(Plugin):
        def metadata(self):
            return plugin_metadata(name="echo", version="0.1.0", frameworks=["echo"])

        def validate(self, input):          # optional: findings for the admission webhook
            return []

        def render_pod(self, input, pod, out):  # edit `pod` (a dict) in place
            pod.setdefault("metadata", {}).setdefault("annotations", {})[
                "echo.plugins.dynamo.nvidia.com/service"] = input.component.service_name

    WitWorld = export(Echo)                 # the name componentize-py looks up in the app module

`Plugin.render` (the `render` export) runs `validate` first (`validate_before_render`): the first
error diagnostic becomes `invalid-input`, warnings become render warnings `<fieldPath>: <message>`.
It then parses the pod template, calls `render_pod` and serializes the pod back. Raise the `Err`s
of `dynamo_plugin.diagnostics` (`invalid_input`, `unsupported`, `internal`) to fail a render; any
other exception becomes `internal` with the exception's type and message.

Every call gets a fresh WebAssembly instance: keep no state between calls.
"""

from __future__ import annotations

from typing import Any, Iterable

from . import pod as _pod
from .convert import dump_json_text
from .diagnostics import first_error, internal, warning_text
from .wit import (
    Diagnostic,
    Err,
    ExtraObject_ConfigMap,
    ExtraObject_SshKeySecret,
    Metadata,
    PluginError_InvalidInput,
    PluginKind,
    RenderInput,
    RenderOutput,
    Serving,
    ServingPort,
    Severity,
    WitWorldProtocol,
)

__all__ = ["Plugin", "Output", "export", "plugin_metadata", "serving"]


class Output:
    """What `render_pod` adds to the render output besides the pod: warnings and extra objects."""

    def __init__(self, warnings: Iterable[str] = ()) -> None:
        self.warnings: list[str] = list(warnings)
        self.extra_objects: list[Any] = []

    def warn(self, message: str) -> None:
        """Adds a warning for the user (events, CLI stderr)."""
        self.warnings.append(message)

    def add_config_map(self, config_map: dict | str) -> None:
        """Adds a ConfigMap (a dict or JSON text); its name must start with `<graph>-<plugin>-`."""
        self.extra_objects.append(ExtraObject_ConfigMap(dump_json_text(config_map)))

    def add_ssh_key_secret(self, name: str) -> None:
        """Asks the host to ensure an SSH key-pair Secret `name` (capability `ssh-key-secret`)."""
        self.extra_objects.append(ExtraObject_SshKeySecret(name))


class Plugin:
    """Base class of a plugin: override `metadata`, `validate` and `render_pod`.

    Set `validate_before_render = False` to skip the validate step of `render`; override
    `render` itself to take over the whole call."""

    validate_before_render: bool = True

    def metadata(self) -> Metadata:
        """Describes the plugin (see `plugin_metadata`); called once at load time."""
        raise NotImplementedError(f"{type(self).__name__} must implement metadata()")

    def validate(self, input: RenderInput) -> list[Diagnostic]:
        """Checks a component before admission; an empty list means valid. Default: valid."""
        return []

    def render_pod(self, input: RenderInput, pod: dict, out: Output) -> dict | None:
        """Renders the backend-specific parts of `pod` (the pod template as a dict), in place.

        Add warnings and extra objects to `out`. Return None (or a new dict to replace `pod`).
        Default: the pod unchanged."""
        return None

    def render(self, input: RenderInput) -> RenderOutput:
        """The `render` export: validate, then `render_pod` on the parsed pod template."""
        try:
            warnings: list[str] = []
            if self.validate_before_render:
                diagnostics = list(self.validate(input))
                found = first_error(diagnostics)
                if found is not None:
                    raise Err(PluginError_InvalidInput(found))
                warnings = [warning_text(d) for d in diagnostics if d.severity == Severity.WARNING]
            pod = _pod.load(input)
            out = Output(warnings)
            replaced = self.render_pod(input, pod, out)
            if replaced is not None:
                pod = replaced
            return RenderOutput(pod_template=_pod.dump(pod), extra_objects=out.extra_objects, warnings=out.warnings)
        except Err:
            raise
        except Exception as e:  # A bug in the plugin: report it rather than trap.
            raise internal(f"{type(e).__name__}: {e}") from e


def export(plugin: type) -> type:
    """Turns a `Plugin` subclass into the `WitWorld` class componentize-py exports.

    Use as `WitWorld = export(MyPlugin)` in the app module. The class subclasses `plugin` and,
    inside a component, the generated `wit_world.WitWorld` protocol. Its `validate` returns the
    diagnostic of an `invalid_input` raised by the plugin's `validate` (e.g. an unparsable pod
    template) instead of trapping. Exporting an exported class returns it unchanged."""
    if getattr(plugin, "__dynamo_exported__", False):
        return plugin

    def validate(self: Any, input: RenderInput) -> list[Diagnostic]:
        """The `validate` export: the plugin's findings, or the diagnostic of its `invalid_input`."""
        try:
            return list(plugin.validate(self, input))
        except Err as e:
            if isinstance(e.value, PluginError_InvalidInput):
                return [e.value.value]
            raise

    bases = (plugin,) if WitWorldProtocol is None else (plugin, WitWorldProtocol)
    return type(
        "WitWorld",
        bases,
        {
            "__dynamo_exported__": True,
            "__module__": plugin.__module__,
            "__qualname__": "WitWorld",
            "__doc__": f"The componentize-py export of {plugin.__qualname__}.",
            "validate": validate,
        },
    )


def serving(
    ports: Iterable[ServingPort | tuple[str, int]],
    health_path: str | None = None,
    dynamo_runtime: bool = False,
) -> Serving:
    """What the engine serves: ports as `ServingPort`s or `(name, number)` pairs (the first is the
    Service target and probe port), the HTTP health path, and whether it is a Dynamo runtime."""
    return Serving(
        dynamo_runtime=dynamo_runtime,
        ports=[p if isinstance(p, ServingPort) else ServingPort(name=p[0], number=p[1]) for p in ports],
        health_path=health_path,
    )


def plugin_metadata(
    name: str,
    version: str,
    *,
    kind: PluginKind = PluginKind.BACKEND,
    frameworks: Iterable[str] = (),
    python_modules: Iterable[str] = (),
    multinode_launcher: str | None = None,
    capabilities: Iterable[str] = (),
    serving: Serving | None = None,
    annotation_prefixes: Iterable[str] = (),
) -> Metadata:
    """A `Metadata` with defaults for everything but the name and version (a backend by default)."""
    return Metadata(
        name=name,
        version=version,
        kind=kind,
        frameworks=list(frameworks),
        python_modules=list(python_modules),
        multinode_launcher=multinode_launcher,
        capabilities=list(capabilities),
        serving=serving,
        annotation_prefixes=list(annotation_prefixes),
    )
