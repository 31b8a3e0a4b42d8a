"""The Python SDK for dynamo-operator backend plugins, built into WebAssembly components with componentize-py.

A plugin is a module (`app.py`) that subclasses `Plugin` and exports it:

    from dynamo_plugin import Plugin, export, plugin_metadata, serving, pod, flags, paths, error

    class MyEngine(Plugin):
        def metadata(self):
            return plugin_metadata(name="my-engine", version="0.1.0", frameworks=["my-engine"],
                                   serving=serving([("http", 8000)], health_path="/health"))

        def validate(self, input):
            return []

        def render_pod(self, input, pod_dict, out):
            main = pod.require_main_container(pod_dict)
            flags.add_flag(main, "--port", 8000)

    WitWorld = export(MyEngine)

and is built against the WIT contract `dynamo:backend@0.3.0`:

    componentize-py -d <wit-dir> -w plugin componentize app -p . -p <sdk-dir> -o my-engine.wasm

Modules: `plugin` (`Plugin`, `Output`, `export`, metadata builders), `diagnostics` (findings and
errors), `pod` (pod template helpers), `flags` (command-line flags), `paths` (field paths),
`inputs` (annotations), `convert` (JSON <-> contract types), `harness` (fixtures, conformance
vectors; native only) and `wit` (the contract types). The SDK uses only the standard library and
runs both inside the component and under plain CPython >= 3.10 for unit tests.
"""

from __future__ import annotations

from . import convert, diagnostics, flags, inputs, paths, pod, wit
from .diagnostics import error, internal, invalid_input, unsupported, warning, warning_text
from .plugin import Output, Plugin, export, plugin_metadata, serving
from .wit import (
    Deployer,
    Diagnostic,
    Err,
    Metadata,
    PluginKind,
    RenderInput,
    RenderOutput,
    Role,
    Severity,
)

__version__ = "0.1.0"
"""Version of this SDK."""

WIT_VERSION = "0.3.0"
"""Version of the `dynamo:backend` contract this SDK targets."""

__all__ = [
    "__version__",
    "WIT_VERSION",
    "Plugin",
    "Output",
    "export",
    "plugin_metadata",
    "serving",
    "error",
    "warning",
    "warning_text",
    "invalid_input",
    "unsupported",
    "internal",
    "Deployer",
    "Diagnostic",
    "Err",
    "Metadata",
    "PluginKind",
    "RenderInput",
    "RenderOutput",
    "Role",
    "Severity",
    "convert",
    "diagnostics",
    "flags",
    "inputs",
    "paths",
    "pod",
    "wit",
]
