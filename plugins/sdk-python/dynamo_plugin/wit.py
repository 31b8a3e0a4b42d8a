"""The contract's types: componentize-py's generated bindings when present, else a stdlib mirror.

Import every contract type from here (or from `dynamo_plugin`), never from `wit_world` directly:

    from dynamo_plugin.wit import Diagnostic, RenderInput, Severity

Inside a component (built with `componentize-py ... componentize`) these are the classes of
`wit_world.imports.types` and `componentize_py_types.Err`, which the component's glue requires.
Natively they come from `dynamo_plugin._fallback`, an identical mirror, so the same plugin code
runs under plain CPython for unit tests without generating bindings.

`BINDINGS` is True when the generated bindings are in use; `WitWorldProtocol` is the generated
`wit_world.WitWorld` protocol class, or None natively.
"""

from __future__ import annotations

try:  # Inside a component, or natively when bindings were generated onto sys.path (Python >= 3.11).
    from componentize_py_types import Err, Ok, Some  # type: ignore[import-not-found]
    from wit_world import WitWorld as WitWorldProtocol  # type: ignore[import-not-found]
    from wit_world.imports.types import (  # type: ignore[import-not-found]
        Component,
        Deployer,
        Diagnostic,
        ExtraObject,
        ExtraObject_ConfigMap,
        ExtraObject_SshKeySecret,
        Graph,
        Infrastructure,
        KeyValue,
        Metadata,
        Placement,
        PluginError,
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

    BINDINGS = True
except ImportError:  # Natively: plain CPython, no bindings (or Python 3.10, which cannot load them).
    from ._fallback import (  # noqa: F401
        Component,
        Deployer,
        Diagnostic,
        Err,
        ExtraObject,
        ExtraObject_ConfigMap,
        ExtraObject_SshKeySecret,
        Graph,
        Infrastructure,
        KeyValue,
        Metadata,
        Ok,
        Placement,
        PluginError,
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
        Some,
    )

    WitWorldProtocol = None
    BINDINGS = False

__all__ = [
    "BINDINGS",
    "Component",
    "Deployer",
    "Diagnostic",
    "Err",
    "ExtraObject",
    "ExtraObject_ConfigMap",
    "ExtraObject_SshKeySecret",
    "Graph",
    "Infrastructure",
    "KeyValue",
    "Metadata",
    "Ok",
    "Placement",
    "PluginError",
    "PluginError_Internal",
    "PluginError_InvalidInput",
    "PluginError_Unsupported",
    "PluginKind",
    "RenderInput",
    "RenderOutput",
    "Role",
    "Serving",
    "ServingPort",
    "Severity",
    "Some",
    "WitWorldProtocol",
]
