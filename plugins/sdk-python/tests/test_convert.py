"""JSON fixture format <-> contract types."""

import unittest

from dynamo_plugin import convert
from dynamo_plugin.convert import FixtureError
from dynamo_plugin.wit import (
    Deployer,
    Diagnostic,
    Err,
    ExtraObject_ConfigMap,
    ExtraObject_SshKeySecret,
    PluginError_Internal,
    PluginError_InvalidInput,
    PluginError_Unsupported,
    RenderOutput,
    Role,
    Severity,
)

FULL = {
    "graph": {
        "name": "g",
        "namespace": "ns",
        "dynamoNamespace": "ns-g",
        "annotations": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}],
    },
    "component": {
        "serviceName": "decode",
        "componentType": "worker",
        "subComponentType": "decode",
        "backendFramework": "vllm",
        "replicas": 2,
        "gpusPerNode": 8,
        "gpuResource": "nvidia.com/gpu",
        "compilationCachePath": "/cache",
    },
    "placement": {
        "deployer": "lws",
        "role": "worker",
        "nodeCount": 2,
        "leaderHost": "$(LWS_LEADER_ADDRESS)",
        "workerHosts": ["w1"],
        "nodeRank": "$(LWS_WORKER_INDEX)",
        "needsShell": True,
        "needsDnsWait": True,
    },
    "infrastructure": {"mpiSshSecretName": "mpi", "waitForLeaderConfigMap": "g-wait"},
    "podTemplate": {"spec": {"containers": [{"name": "main", "args": ["ü"]}]}},
}


class Input(unittest.TestCase):
    def test_round_trip(self):
        value = convert.input_from_json(FULL)
        self.assertEqual(value.placement.deployer, Deployer.LWS)
        self.assertEqual(value.placement.role, Role.WORKER)
        self.assertEqual(value.pod_template, '{"spec":{"containers":[{"name":"main","args":["ü"]}]}}')
        self.assertEqual([kv.key for kv in value.graph.annotations], ["b", "a"])  # list order kept
        self.assertEqual(convert.input_to_json(value), FULL)

    def test_defaults(self):
        value = convert.input_from_json({})
        self.assertEqual(value.placement.deployer, Deployer.NONE)
        self.assertEqual(value.placement.role, Role.MAIN)
        self.assertEqual(value.placement.node_count, 1)
        self.assertEqual(value.placement.node_rank, "0")
        self.assertEqual(value.component.sub_component_type, None)
        self.assertEqual(value.component.replicas, 0)
        self.assertEqual(value.graph.annotations, [])
        self.assertEqual(value.pod_template, "")
        self.assertEqual(convert.input_from_json({"placement": None, "graph": {"name": None}}).graph.name, "")

    def test_annotations_as_a_map_are_sorted(self):
        value = convert.input_from_json({"graph": {"annotations": {"z": "1", "a": "2"}}})
        self.assertEqual([(kv.key, kv.value) for kv in value.graph.annotations], [("a", "2"), ("z", "1")])

    def test_pod_template_as_text_is_kept(self):
        self.assertEqual(convert.input_from_json({"podTemplate": '{"a": 1}'}).pod_template, '{"a": 1}')

    def test_unknown_keys_are_ignored(self):
        self.assertEqual(convert.input_from_json({"extra": 1, "component": {"x": 2}}).component.service_name, "")

    def test_type_errors_name_the_field(self):
        for doc, path in [
            ({"component": {"replicas": "2"}}, "component.replicas"),
            ({"component": {"gpusPerNode": -1}}, "component.gpusPerNode"),
            ({"component": {"replicas": True}}, "component.replicas"),
            ({"placement": {"deployer": "k8s"}}, "placement.deployer"),
            ({"placement": {"workerHosts": ["a", 1]}}, "placement.workerHosts[1]"),
            ({"placement": {"needsShell": "yes"}}, "placement.needsShell"),
            ({"graph": {"annotations": {"a": 1}}}, "graph.annotations[a]"),
            ({"graph": {"annotations": [{"key": 1}]}}, "graph.annotations[0].key"),
            ({"graph": []}, "graph"),
        ]:
            with self.assertRaises(FixtureError, msg=doc) as caught:
                convert.input_from_json(doc)
            self.assertEqual(caught.exception.path, path)
        with self.assertRaises(FixtureError):
            convert.input_from_json([])


class Output(unittest.TestCase):
    def test_output_round_trip(self):
        out = RenderOutput(
            pod_template='{"spec":{}}',
            extra_objects=[ExtraObject_ConfigMap('{"metadata":{"name":"g-p-x"}}'), ExtraObject_SshKeySecret("g-p-ssh")],
            warnings=["w"],
        )
        doc = convert.output_to_json(out)
        self.assertEqual(
            doc,
            {
                "podTemplate": {"spec": {}},
                "extraObjects": [{"configMap": {"metadata": {"name": "g-p-x"}}}, {"sshKeySecret": "g-p-ssh"}],
                "warnings": ["w"],
            },
        )
        self.assertEqual(convert.output_from_json(doc), out)

    def test_text_that_is_not_json_stays_a_string(self):
        self.assertEqual(convert.output_to_json(RenderOutput("not json", [], []))["podTemplate"], "not json")
        self.assertEqual(convert.output_to_json(RenderOutput('"quoted"', [], []))["podTemplate"], '"quoted"')

    def test_errors(self):
        d = Diagnostic("a.b", "bad", Severity.ERROR)
        cases = [
            (PluginError_InvalidInput(d), {"invalidInput": {"fieldPath": "a.b", "message": "bad", "severity": "error"}}),
            (PluginError_Unsupported("no"), {"unsupported": "no"}),
            (PluginError_Internal("bug"), {"internal": "bug"}),
        ]
        for value, doc in cases:
            self.assertEqual(convert.error_to_json(value), doc)
            self.assertEqual(convert.error_to_json(Err(value)), doc)
            self.assertEqual(convert.error_from_json(doc), value)
        with self.assertRaises(FixtureError):
            convert.error_from_json({"unsupported": "a", "internal": "b"})

    def test_diagnostics(self):
        docs = [{"fieldPath": "x", "message": "m", "severity": "warning"}]
        values = convert.diagnostics_from_json(docs)
        self.assertEqual(values, [Diagnostic("x", "m", Severity.WARNING)])
        self.assertEqual(convert.diagnostics_to_json(values), docs)


class MetadataJson(unittest.TestCase):
    def test_round_trip(self):
        from dynamo_plugin import plugin_metadata, serving

        m = plugin_metadata("x", "1.0.0", frameworks=["x"], serving=serving([("http", 80)], "/h"), annotation_prefixes=["e.com/x-"])
        doc = convert.metadata_to_json(m)
        self.assertEqual(doc["serving"], {"dynamoRuntime": False, "ports": [{"name": "http", "number": 80}], "healthPath": "/h"})
        self.assertEqual(doc["kind"], "backend")
        self.assertEqual(convert.metadata_from_json(doc), m)


if __name__ == "__main__":
    unittest.main()
