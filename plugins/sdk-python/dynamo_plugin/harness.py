"""Runs a plugin natively on fixtures and conformance vectors, for tests and the command line.

A fixture is a render input in the JSON format of `dynamo-operator render --plugin-input` (see
`dynamo_plugin.convert`). A conformance vector is one JSON object:

    {"name": "...", "call": "render" | "validate", "input": {<fixture>},
     "expect": {"output": {"podTemplate", "extraObjects", "warnings"}}
             | {"error": {"invalidInput": {...}} | {"unsupported": "..."} | {"internal": "..."}}
             | {"diagnostics": [{"fieldPath", "message", "severity"}, ...]}}

`podTemplate` is compared as a JSON value, everything else exactly and lists in order; a failure
is reported as one line per difference, e.g.
`output.podTemplate.spec.containers[0].args[3]: expected "8080", got "9000"`.

In a unittest test case:

    from dynamo_plugin import harness
    from app import WitWorld

    class Conformance(unittest.TestCase):
        def test_vectors(self):
            harness.check_vectors(self, WitWorld, "../conformance")

On the command line (from the plugin's folder; `--plugin` defaults to `app`, the module whose
`WitWorld` componentize-py exports):

    python3 -m dynamo_plugin.harness render tests/fixtures/main.json
    python3 -m dynamo_plugin.harness validate tests/fixtures/main.json
    python3 -m dynamo_plugin.harness metadata
    python3 -m dynamo_plugin.harness conformance ../conformance
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .convert import (
    FixtureError,
    diagnostics_to_json,
    error_to_json,
    input_from_json,
    load_json_text,
    metadata_to_json,
    output_to_json,
)
from .plugin import export
from .wit import Diagnostic, Err, RenderInput, RenderOutput

__all__ = [
    "VectorResult",
    "load_json",
    "load_fixture",
    "plugin_instance",
    "render",
    "render_json",
    "validate",
    "validate_json",
    "metadata_json",
    "diff_json",
    "load_vectors",
    "run_vector",
    "run_vectors",
    "check_vectors",
    "main",
]

def load_json(path: str | os.PathLike[str]) -> Any:
    """Reads a JSON file; raises `FixtureError` naming the file when it is not valid JSON."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError as e:
        raise FixtureError("", f"{path}: not valid JSON: {e}") from None


def load_fixture(path: str | os.PathLike[str]) -> RenderInput:
    """Reads a fixture file (a render input in the `--plugin-input` JSON format)."""
    try:
        return input_from_json(load_json(path))
    except FixtureError as e:
        raise FixtureError(e.path, f"fixture {path}: {e.message}") from None


def _input(source: Any) -> RenderInput:
    if isinstance(source, RenderInput):
        return source
    if isinstance(source, dict):
        return input_from_json(source)
    return load_fixture(source)


def plugin_instance(plugin: Any) -> Any:
    """An instance of the exported plugin: `plugin` is a `Plugin` subclass, its `export`ed
    `WitWorld` class, or an instance (used as is)."""
    if isinstance(plugin, type):
        return export(plugin)()
    return plugin


def render(plugin: Any, source: Any) -> RenderOutput:
    """Renders `source` (a fixture path, its JSON dict or a `RenderInput`); raises `Err` on failure."""
    return plugin_instance(plugin).render(_input(source))


def render_json(plugin: Any, source: Any) -> dict:
    """Renders `source` and returns `{"output": {...}}` or `{"error": {...}}` in the JSON format."""
    try:
        return {"output": output_to_json(render(plugin, source))}
    except Err as e:
        return {"error": error_to_json(e)}


def validate(plugin: Any, source: Any) -> list[Diagnostic]:
    """Validates `source` (a fixture path, its JSON dict or a `RenderInput`)."""
    return list(plugin_instance(plugin).validate(_input(source)))


def validate_json(plugin: Any, source: Any) -> list[dict]:
    """Validates `source` and returns the diagnostics in the JSON format."""
    return diagnostics_to_json(validate(plugin, source))


def metadata_json(plugin: Any) -> dict:
    """The plugin's metadata in the JSON format."""
    return metadata_to_json(plugin_instance(plugin).metadata())


# --- comparing JSON values -------------------------------------------------------------------


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 240 else text[:237] + "..."


def _child(path: str, key: str) -> str:
    simple = key.replace("_", "").replace("-", "").isalnum() and not key[:1].isdigit()
    if not simple:
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def diff_json(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """The differences between two JSON values, one line per difference (empty when equal).

    Objects are compared key by key (order ignored), lists element by element."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in expected:
            if key not in actual:
                out.append(f"{_child(path, key)}: missing, expected {_show(expected[key])}")
            else:
                out += diff_json(expected[key], actual[key], _child(path, key))
        out += [f"{_child(path, key)}: unexpected, got {_show(actual[key])}" for key in actual if key not in expected]
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            at = f"{path}[{i}]"
            if i >= len(actual):
                out.append(f"{at}: missing, expected {_show(expected[i])}")
            elif i >= len(expected):
                out.append(f"{at}: unexpected, got {_show(actual[i])}")
            else:
                out += diff_json(expected[i], actual[i], at)
        return out
    if isinstance(expected, (dict, list)) or isinstance(actual, (dict, list)) or not _same_scalar(expected, actual):
        return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
    return []


# --- conformance vectors ---------------------------------------------------------------------


@dataclass
class VectorResult:
    """The outcome of one conformance vector: `diffs` is empty when it passed."""

    name: str
    path: str
    diffs: list[str] = field(default_factory=list)
    actual: Any = None

    @property
    def passed(self) -> bool:
        """True when the plugin's result matched the expectation."""
        return not self.diffs

    def report(self) -> str:
        """A readable failure report: the vector, each difference, and the actual result."""
        lines = [f"conformance vector {self.name!r} ({self.path}) failed:"]
        lines += [f"  {d}" for d in self.diffs]
        if self.actual is not None:
            lines.append(f"  actual result: {json.dumps(self.actual, ensure_ascii=False, sort_keys=True)}")
        return "\n".join(lines)


def load_vectors(directory: str | os.PathLike[str]) -> list[Path]:
    """The vector files (`*.json`) of a directory, sorted by name; empty when it does not exist."""
    d = Path(directory)
    return sorted(d.glob("*.json")) if d.is_dir() else []


def _expected_output(expected: Any) -> Any:
    if not isinstance(expected, dict):
        return expected
    out = dict(expected)
    out.setdefault("extraObjects", [])
    out.setdefault("warnings", [])
    if "podTemplate" in out and isinstance(out["podTemplate"], str):
        out["podTemplate"] = load_json_text(out["podTemplate"])
    out["extraObjects"] = [
        {"configMap": load_json_text(o["configMap"])} if isinstance(o, dict) and isinstance(o.get("configMap"), str) else o
        for o in out["extraObjects"] or []
    ]
    return out


def run_vector(plugin: Any, vector: Any) -> VectorResult:
    """Runs one vector (a file path or its parsed dict) and compares the result."""
    path = "<dict>"
    if not isinstance(vector, dict):
        path = str(vector)
        try:
            vector = load_json(vector)
        except (OSError, FixtureError) as e:
            return VectorResult(name=Path(path).stem, path=path, diffs=[f"cannot read vector: {e}"])
    name = vector.get("name", Path(path).stem) if isinstance(vector, dict) else Path(path).stem
    result = VectorResult(name=str(name), path=path)
    if not isinstance(vector, dict):
        result.diffs = ["vector: expected a JSON object"]
        return result
    call, expect = vector.get("call"), vector.get("expect")
    keys = sorted(expect) if isinstance(expect, dict) else []
    if call not in ("render", "validate"):
        result.diffs = [f"vector: `call` must be render or validate, got {_show(call)}"]
        return result
    if len(keys) != 1 or keys[0] not in ("output", "error", "diagnostics"):
        result.diffs = [f"vector: `expect` must have exactly one of output, error, diagnostics; got {keys}"]
        return result
    if (call == "validate") != (keys[0] == "diagnostics"):
        result.diffs = [f"vector: call {call} cannot expect {keys[0]}"]
        return result
    try:
        input = input_from_json(vector.get("input"))
    except FixtureError as e:
        result.diffs = [f"vector: bad input: {e}"]
        return result

    if call == "validate":
        actual: Any = {"diagnostics": validate_json(plugin, input)}
        expected: Any = {"diagnostics": expect["diagnostics"]}
    else:
        actual = render_json(plugin, input)
        expected = dict(expect)
        if "output" in expected:
            expected["output"] = _expected_output(expected["output"])
    result.actual = actual
    if set(expected) != set(actual):  # render: output expected and error returned, or the reverse
        (want, value), = expected.items()
        (got, other), = actual.items()
        result.diffs = [f"expected {want} {_show(value)}, got {got} {_show(other)}"]
    else:
        result.diffs = diff_json(expected, actual, path="")
    return result


def run_vectors(plugin: Any, directory: str | os.PathLike[str]) -> list[VectorResult]:
    """Runs every vector of a directory, in file name order."""
    return [run_vector(plugin, p) for p in load_vectors(directory)]


def check_vectors(test: Any, plugin: Any, directory: str | os.PathLike[str], require: bool = False) -> int:
    """Runs every vector of `directory` as a `unittest` subtest of `test`, failing with the diffs.

    Skips the test when there are no vectors, unless `require`. Returns the number run."""
    files = load_vectors(directory)
    if not files:
        if require:
            test.fail(f"no conformance vectors in {directory}")
        test.skipTest(f"no conformance vectors in {directory}")
    for f in files:
        with test.subTest(vector=f.name):
            r = run_vector(plugin, f)
            if not r.passed:
                test.fail(r.report())
    return len(files)


# --- command line ----------------------------------------------------------------------------


def _load_plugin(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    return getattr(module, attr or "WitWorld")


def main(argv: list[str] | None = None) -> int:
    """`python3 -m dynamo_plugin.harness {render,validate,metadata,conformance} ...`."""
    parser = argparse.ArgumentParser(prog="python3 -m dynamo_plugin.harness", description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", default="app", help="MODULE[:CLASS] (default: app, class WitWorld)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("render", help="render a fixture; prints {output} or {error}").add_argument("fixture")
    sub.add_parser("validate", help="validate a fixture; prints the diagnostics").add_argument("fixture")
    sub.add_parser("metadata", help="print the plugin's metadata")
    conf = sub.add_parser("conformance", help="run conformance vectors (directories or files)")
    conf.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    plugin = _load_plugin(args.plugin)

    if args.command == "render":
        result = render_json(plugin, args.fixture)
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0 if "output" in result else 1
    if args.command == "validate":
        print(json.dumps(validate_json(plugin, args.fixture), indent=2, ensure_ascii=False))
        return 0
    if args.command == "metadata":
        print(json.dumps(metadata_json(plugin), indent=2, ensure_ascii=False))
        return 0
    files = [f for p in args.paths for f in (load_vectors(p) if Path(p).is_dir() else [Path(p)])]
    failed = 0
    for f in files:
        r = run_vector(plugin, f)
        print(f"ok    {f.name}: {r.name}" if r.passed else r.report())
        failed += not r.passed
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed or not files else 0


if __name__ == "__main__":
    sys.exit(main())
