"""The `Plugin` base class, `export`, and reading inputs."""

import unittest

from dynamo_plugin import (
    Err,
    Plugin,
    convert,
    error,
    export,
    inputs,
    invalid_input,
    plugin_metadata,
    unsupported,
    warning,
    warning_text,
)
from dynamo_plugin.wit import PluginError_Internal, PluginError_InvalidInput, PluginError_Unsupported

INPUT = {
    "graph": {"name": "g", "annotations": {"example.com/x-mode": "fast"}},
    "component": {"serviceName": "svc"},
    "podTemplate": {"spec": {"containers": [{"name": "main"}]}},
}


class Sample(Plugin):
    """Validation driven by the `mode` annotation; render adds a label, a warning and objects."""

    def metadata(self):
        return plugin_metadata("sample", "0.1.0", frameworks=["sample"])

    def validate(self, input):
        mode = inputs.annotation(input, "example.com/x-mode")
        if mode == "error":
            return [warning("w.path", "first a warning"), error("e.path", "bad"), error("e2", "worse")]
        if mode == "raise":
            raise invalid_input("podTemplate", "cannot read")
        return [warning("w.path", "careful"), warning("", "no path")]

    def render_pod(self, input, pod, out):
        mode = inputs.annotation(input, "example.com/x-mode")
        if mode == "unsupported":
            raise unsupported("not that")
        if mode == "bug":
            return {}["missing"]
        if mode == "replace":
            return {"replaced": True}
        pod.setdefault("metadata", {})["labels"] = {"sample.plugins.dynamo.nvidia.com/svc": input.component.service_name}
        out.warn("from the body")
        out.add_config_map({"metadata": {"name": "g-sample-x"}})
        out.add_ssh_key_secret("g-sample-ssh")
        return None


def with_mode(mode):
    doc = dict(INPUT, graph={"annotations": {"example.com/x-mode": mode}})
    return convert.input_from_json(doc)


class Render(unittest.TestCase):
    def setUp(self):
        self.plugin = export(Sample)()

    def test_render_runs_validate_and_the_body(self):
        out = convert.output_to_json(self.plugin.render(convert.input_from_json(INPUT)))
        self.assertEqual(out["warnings"], ["w.path: careful", "no path", "from the body"])
        self.assertEqual(out["podTemplate"]["metadata"], {"labels": {"sample.plugins.dynamo.nvidia.com/svc": "svc"}})
        self.assertEqual(out["extraObjects"], [{"configMap": {"metadata": {"name": "g-sample-x"}}}, {"sshKeySecret": "g-sample-ssh"}])

    def test_the_first_error_diagnostic_fails_the_render(self):
        with self.assertRaises(Err) as caught:
            self.plugin.render(with_mode("error"))
        self.assertEqual(caught.exception.value, PluginError_InvalidInput(error("e.path", "bad")))

    def test_validate_can_be_skipped(self):
        class Lenient(Sample):
            validate_before_render = False

        out = export(Lenient)().render(with_mode("error"))
        self.assertEqual(out.warnings, ["from the body"])

    def test_errors_raised_by_the_body(self):
        with self.assertRaises(Err) as caught:
            self.plugin.render(with_mode("unsupported"))
        self.assertEqual(caught.exception.value, PluginError_Unsupported("not that"))
        with self.assertRaises(Err) as caught:
            self.plugin.render(with_mode("bug"))
        self.assertEqual(caught.exception.value, PluginError_Internal("KeyError: 'missing'"))

    def test_the_body_may_return_a_new_pod(self):
        self.assertEqual(self.plugin.render(with_mode("replace")).pod_template, '{"replaced":true}')

    def test_an_unparsable_pod_template_is_invalid_input(self):
        doc = dict(INPUT, podTemplate="[1]")
        with self.assertRaises(Err) as caught:
            self.plugin.render(convert.input_from_json(doc))
        self.assertEqual(convert.error_to_json(caught.exception)["invalidInput"]["fieldPath"], "podTemplate")


class Validate(unittest.TestCase):
    def test_invalid_input_raised_by_validate_becomes_a_diagnostic(self):
        self.assertEqual(export(Sample)().validate(with_mode("raise")), [error("podTemplate", "cannot read")])
        with self.assertRaises(Err):
            Sample().validate(with_mode("raise"))  # the unexported class is left alone

    def test_and_fails_the_render(self):
        with self.assertRaises(Err) as caught:
            export(Sample)().render(with_mode("raise"))
        self.assertEqual(caught.exception.value, PluginError_InvalidInput(error("podTemplate", "cannot read")))


class Export(unittest.TestCase):
    def test_export_is_idempotent_and_keeps_the_class(self):
        exported = export(Sample)
        self.assertIs(export(exported), exported)
        self.assertTrue(issubclass(exported, Sample))
        self.assertEqual(exported.__name__, "WitWorld")
        self.assertEqual(exported().metadata().name, "sample")

    def test_defaults(self):
        class Bare(Plugin):
            pass

        plugin = export(Bare)()
        self.assertEqual(plugin.validate(convert.input_from_json(INPUT)), [])
        self.assertEqual(plugin.render(convert.input_from_json(INPUT)).pod_template, '{"spec":{"containers":[{"name":"main"}]}}')
        with self.assertRaises(NotImplementedError):
            plugin.metadata()


class Inputs(unittest.TestCase):
    def test_annotations(self):
        i = convert.input_from_json({"graph": {"annotations": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}})
        self.assertEqual(inputs.annotation(i, "a"), "1")
        self.assertIsNone(inputs.annotation(i, "b"))
        self.assertEqual(inputs.annotations(i), {"a": "1"})
        self.assertFalse(inputs.is_multinode(i))

    def test_warning_text(self):
        self.assertEqual(warning_text(warning("a.b", "m")), "a.b: m")
        self.assertEqual(warning_text(warning("", "m")), "m")


if __name__ == "__main__":
    unittest.main()
