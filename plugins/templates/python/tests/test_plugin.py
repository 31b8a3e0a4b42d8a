"""Runs the `{{name}}` plugin natively on `tests/fixtures/main.json` through the SDK's harness."""

import copy
import os
import unittest

from dynamo_plugin import harness

from app import WitWorld

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "main.json")


def fixture():
    """The fixture as a dict, to change per test."""
    return copy.deepcopy(harness.load_json(FIXTURE))


def main_container(result):
    return next(c for c in result["output"]["podTemplate"]["spec"]["containers"] if c["name"] == "main")


class Plugin(unittest.TestCase):
    def test_metadata(self):
        meta = harness.metadata_json(WitWorld)
        self.assertEqual(meta["name"], "{{name}}")
        self.assertEqual(meta["frameworks"], ["{{name}}"])
        self.assertEqual(meta["serving"], {"dynamoRuntime": False, "ports": [{"name": "http", "number": 8000}], "healthPath": "/health"})
        self.assertEqual(meta["annotationPrefixes"], ["example.com/{{name}}-"])

    def test_the_fixture_is_valid(self):
        self.assertEqual(harness.validate_json(WitWorld, FIXTURE), [])

    def test_render_adds_the_flags_the_cache_and_hf_home(self):
        result = harness.render_json(WitWorld, FIXTURE)
        self.assertEqual(main_container(result)["args"], ["--model", "Qwen/Qwen3-0.6B", "--port", "8000", "--max-batch-size", "32"])
        self.assertEqual(result["output"]["warnings"], [])
        # Everything else is returned exactly as received.
        expected = fixture()["podTemplate"]
        want = expected["spec"]["containers"][0]
        want["args"] = main_container(result)["args"]
        want["volumeMounts"] = want.get("volumeMounts", []) + [{"name": "model-cache", "mountPath": "/cache"}]
        want["env"] = want.get("env", []) + [{"name": "HF_HOME", "value": "/cache"}]
        expected["spec"]["volumes"] = expected["spec"].get("volumes", []) + [{"name": "model-cache", "emptyDir": {}}]
        self.assertEqual(harness.diff_json(expected, result["output"]["podTemplate"]), [])

    def test_a_mounted_cache_path_and_a_set_hf_home_are_kept(self):
        doc = fixture()
        main = doc["podTemplate"]["spec"]["containers"][0]
        main["volumeMounts"] = [{"name": "models", "mountPath": "/cache"}]
        main["env"] = [{"name": "HF_HOME", "value": "/models"}]
        rendered = main_container(harness.render_json(WitWorld, doc))
        self.assertEqual(rendered["volumeMounts"], [{"name": "models", "mountPath": "/cache"}])
        self.assertEqual(rendered["env"], [{"name": "HF_HOME", "value": "/models"}])

    def test_multi_node_is_rejected(self):
        doc = fixture()
        doc["placement"] = {**doc["placement"], "deployer": "lws", "role": "leader", "nodeCount": 2}
        found = harness.validate_json(WitWorld, doc)
        self.assertEqual([d["fieldPath"] for d in found], ["spec.services.engine.multinode.nodeCount"])

    def test_flags_already_set_are_kept(self):
        doc = fixture()
        doc["podTemplate"]["spec"]["containers"][0]["args"] = ["--port=9000", "--max-batch-size", "8"]
        self.assertEqual(main_container(harness.render_json(WitWorld, doc))["args"], ["--port=9000", "--max-batch-size", "8"])

    def test_flags_go_into_a_shell_script(self):
        doc = fixture()
        main = doc["podTemplate"]["spec"]["containers"][0]
        main["command"], main["args"] = ["sh", "-c"], ["exec serve --model Qwen/Qwen3-0.6B"]
        self.assertEqual(
            main_container(harness.render_json(WitWorld, doc))["args"],
            ["exec serve --model Qwen/Qwen3-0.6B --port 8000 --max-batch-size 32"],
        )

    def test_an_invalid_batch_size_is_rejected(self):
        doc = fixture()
        doc["graph"]["annotations"] = {"example.com/{{name}}-max-batch-size": "lots"}
        diagnostic = {
            "fieldPath": "spec.services.engine.annotations[example.com/{{name}}-max-batch-size]",
            "message": "must be a positive integer; got `lots`",
            "severity": "error",
        }
        self.assertEqual(harness.validate_json(WitWorld, doc), [diagnostic])
        self.assertEqual(harness.render_json(WitWorld, doc), {"error": {"invalidInput": diagnostic}})

    def test_a_pod_without_a_main_container_is_rejected(self):
        doc = fixture()
        doc["podTemplate"]["spec"]["containers"][0]["name"] = "engine"
        error = harness.render_json(WitWorld, doc)["error"]["invalidInput"]
        self.assertEqual(error["fieldPath"], "podTemplate.spec.containers")


if __name__ == "__main__":
    unittest.main()
