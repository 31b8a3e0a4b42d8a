"""Fixtures, conformance vectors and the command line."""

import contextlib
import io
import json
import os
import tempfile
import unittest

from dynamo_plugin import Plugin, error, harness, plugin_metadata, pod, warning
from dynamo_plugin.convert import FixtureError


class Tiny(Plugin):
    """Adds `--tiny` to the main container's args; rejects a service named `bad`."""

    def metadata(self):
        return plugin_metadata("tiny", "0.1.0")

    def validate(self, input):
        if input.component.service_name == "bad":
            return [error("spec.services.bad", "no")]
        return [warning("spec.services.x", "hm")]

    def render_pod(self, input, p, out):
        pod.require_main_container(p).setdefault("args", []).append("--tiny")


INPUT = {"component": {"serviceName": "x"}, "podTemplate": {"spec": {"containers": [{"name": "main"}]}}}
OUTPUT = {"podTemplate": {"spec": {"containers": [{"name": "main", "args": ["--tiny"]}]}}, "extraObjects": [], "warnings": ["spec.services.x: hm"]}


class Diff(unittest.TestCase):
    def test_equal_values(self):
        self.assertEqual(harness.diff_json({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]}), [])

    def test_differences(self):
        self.assertEqual(
            harness.diff_json({"a": [1, 2], "b": "x", "c": True, "d.e": 1}, {"a": [1], "b": "y", "c": 1, "z": 0, "d.e": 1}),
            [
                "$.a[1]: missing, expected 2",
                '$.b: expected "x", got "y"',
                "$.c: expected true, got 1",
                "$.z: unexpected, got 0",
            ],
        )
        self.assertEqual(harness.diff_json([], [{"k": 1}], "x"), ['x[0]: unexpected, got {"k":1}'])
        self.assertEqual(harness.diff_json({"a.b": 1}, {"a.b": 2}), ['$["a.b"]: expected 1, got 2'])


class Vectors(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, doc):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return path

    def test_passing_vectors(self):
        self.write("a.json", {"name": "renders", "call": "render", "input": INPUT, "expect": {"output": OUTPUT}})
        self.write("b.json", {"name": "rejects", "call": "render", "input": {"component": {"serviceName": "bad"}},
                              "expect": {"error": {"invalidInput": {"fieldPath": "spec.services.bad", "message": "no", "severity": "error"}}}})
        self.write("c.json", {"name": "validates", "call": "validate", "input": INPUT,
                              "expect": {"diagnostics": [{"fieldPath": "spec.services.x", "message": "hm", "severity": "warning"}]}})
        self.write("notes.txt", {})
        results = harness.run_vectors(Tiny, self.dir.name)
        self.assertEqual([(r.name, r.passed) for r in results], [("renders", True), ("rejects", True), ("validates", True)])
        self.assertEqual(harness.check_vectors(self, Tiny, self.dir.name), 3)

    def test_a_failing_vector_reports_each_difference(self):
        expected = json.loads(json.dumps(OUTPUT))
        expected["podTemplate"]["spec"]["containers"][0]["args"] = ["--small"]
        expected["warnings"] = []
        path = self.write("a.json", {"name": "renders", "call": "render", "input": INPUT, "expect": {"output": expected}})
        result = harness.run_vector(Tiny, path)
        self.assertEqual(
            result.diffs,
            [
                'output.podTemplate.spec.containers[0].args[0]: expected "--small", got "--tiny"',
                'output.warnings[0]: unexpected, got "spec.services.x: hm"',
            ],
        )
        self.assertIn("conformance vector 'renders'", result.report())
        self.assertIn("actual result:", result.report())

    def test_output_expected_but_error_returned(self):
        result = harness.run_vector(Tiny, {"call": "render", "input": {"podTemplate": {}}, "expect": {"output": OUTPUT}})
        [diff] = result.diffs
        self.assertTrue(diff.startswith('expected output {"podTemplate":'), diff)
        self.assertIn(', got error {"invalidInput":{"fieldPath":"podTemplate.spec.containers"', diff)

    def test_malformed_vectors(self):
        for vector, message in [
            ({"call": "deploy", "expect": {"output": {}}}, "`call` must be"),
            ({"call": "render", "expect": {}}, "exactly one of"),
            ({"call": "validate", "expect": {"output": {}}}, "cannot expect"),
            ({"call": "render", "input": {"graph": 1}, "expect": {"output": {}}}, "bad input: graph"),
        ]:
            self.assertIn(message, harness.run_vector(Tiny, vector).diffs[0])
        bad = os.path.join(self.dir.name, "bad.json")
        with open(bad, "w") as f:
            f.write("{")
        self.assertIn("not valid JSON", harness.run_vector(Tiny, bad).diffs[0])

    def test_no_vectors_skips(self):
        with self.assertRaises(unittest.SkipTest):
            harness.check_vectors(self, Tiny, os.path.join(self.dir.name, "none"))

    def test_fixtures(self):
        path = self.write("f.json", INPUT)
        self.assertEqual(harness.render_json(Tiny, path), {"output": OUTPUT})
        self.assertEqual(harness.validate_json(Tiny, path), [{"fieldPath": "spec.services.x", "message": "hm", "severity": "warning"}])
        self.assertEqual(harness.render(Tiny(), INPUT).warnings, ["spec.services.x: hm"])
        with self.assertRaises(FixtureError) as caught:
            harness.load_fixture(self.write("g.json", {"placement": {"nodeCount": "2"}}))
        self.assertIn("placement.nodeCount", str(caught.exception))


class CommandLine(unittest.TestCase):
    def test_render_validate_metadata_conformance(self):
        with tempfile.TemporaryDirectory() as d:
            fixture = os.path.join(d, "in.json")
            with open(fixture, "w") as f:
                json.dump(INPUT, f)
            os.mkdir(os.path.join(d, "vectors"))
            with open(os.path.join(d, "vectors", "v.json"), "w") as f:
                json.dump({"name": "v", "call": "render", "input": INPUT, "expect": {"output": OUTPUT}}, f)
            plugin = f"{__name__}:Tiny"
            for argv, code, needle in [
                (["--plugin", plugin, "render", fixture], 0, '"--tiny"'),
                (["--plugin", plugin, "validate", fixture], 0, '"hm"'),
                (["--plugin", plugin, "metadata"], 0, '"tiny"'),
                (["--plugin", plugin, "conformance", os.path.join(d, "vectors")], 0, "1 passed, 0 failed"),
            ]:
                buf = io.StringIO()
                with contextlib.redirect_stdout(buf):
                    self.assertEqual(harness.main(argv), code, argv)
                self.assertIn(needle, buf.getvalue())


if __name__ == "__main__":
    unittest.main()
