"""Building diagnostics and plugin errors: `error`/`warning` findings and the `Err`s render raises.

    from dynamo_plugin import error, invalid_input, paths

    def validate(self, input):
        return [error(paths.node_count(input), "multi-node is not supported")]

    def render_pod(self, input, pod, out):
        raise invalid_input("podTemplate.spec.containers", "no container named `main`")

`invalid_input`, `unsupported` and `internal` return the `Err` exception that componentize-py
turns into the `plugin-error` case of `render`'s result: `raise` it.
"""

from __future__ import annotations

from .wit import (
    Diagnostic,
    Err,
    PluginError_Internal,
    PluginError_InvalidInput,
    PluginError_Unsupported,
    Severity,
)

__all__ = [
    "error",
    "warning",
    "is_error",
    "first_error",
    "warning_text",
    "invalid_input",
    "unsupported",
    "internal",
]


def error(field_path: str, message: str) -> Diagnostic:
    """An error diagnostic: the graph is rejected."""
    return Diagnostic(field_path=field_path, message=message, severity=Severity.ERROR)


def warning(field_path: str, message: str) -> Diagnostic:
    """A warning diagnostic: the graph is accepted with a warning."""
    return Diagnostic(field_path=field_path, message=message, severity=Severity.WARNING)


def is_error(diagnostic: Diagnostic) -> bool:
    """True for an error-severity diagnostic."""
    return diagnostic.severity == Severity.ERROR


def first_error(diagnostics: list[Diagnostic]) -> Diagnostic | None:
    """The first error-severity diagnostic of the list, if any."""
    return next((d for d in diagnostics if is_error(d)), None)


def warning_text(diagnostic: Diagnostic) -> str:
    """A diagnostic as a render warning: `<fieldPath>: <message>` (just the message without a path)."""
    if not diagnostic.field_path:
        return diagnostic.message
    return f"{diagnostic.field_path}: {diagnostic.message}"


def invalid_input(field_path: str, message: str) -> Err:
    """`Err(invalid-input(error diagnostic))` to raise from render: the input cannot be rendered."""
    return Err(PluginError_InvalidInput(error(field_path, message)))


def unsupported(message: str) -> Err:
    """`Err(unsupported(message))` to raise from render: the input asks for an unsupported feature."""
    return Err(PluginError_Unsupported(message))


def internal(message: str) -> Err:
    """`Err(internal(message))` to raise from render: a bug in the plugin."""
    return Err(PluginError_Internal(message))
