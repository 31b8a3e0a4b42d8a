"""Direct unit tests of the Python `tgi` plugin, one per rule of `examples/tgi/SPEC.md`."""

import copy
import os
import unittest

from dynamo_plugin import Err, harness
from dynamo_plugin.convert import error_to_json

from app import WitWorld

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "graph.json")


def base():
    """The fixture as a dict, to modify per test."""
    return copy.deepcopy(harness.load_json(FIXTURE))


def main_of(out):
    return next(c for c in out["podTemplate"]["spec"]["containers"] if c["name"] == "main")


def render(doc):
    return harness.render_json(WitWorld, doc)


class Metadata(unittest.TestCase):
    def test_metadata_matches_the_spec(self):
        self.assertEqual(
            harness.metadata_json(WitWorld),
            {
                "name": "tgi",
                "version": "0.1.0",
                "kind": "backend",
                "frameworks": ["tgi"],
                "pythonModules": [],
                "multinodeLauncher": None,
                "capabilities": [],
                "serving": {"dynamoRuntime": False, "ports": [{"name": "http", "number": 8080}], "healthPath": "/health"},
                "annotationPrefixes": ["example.com/tgi-"],
            },
        )


class Validate(unittest.TestCase):
    def test_the_fixture_is_valid(self):
        self.assertEqual(harness.validate_json(WitWorld, FIXTURE), [])

    def test_every_rule_in_order(self):
        doc = base()
        doc["placement"]["nodeCount"] = 2
        doc["graph"]["annotations"] = {"example.com/tgi-quantize": "int3"}
        doc["component"]["gpusPerNode"] = 0
        del doc["podTemplate"]["spec"]["containers"][0]["args"]
        self.assertEqual(
            harness.validate_json(WitWorld, doc),
            [
                {
                    "fieldPath": "spec.services.tgi.multinode.nodeCount",
                    "message": "TGI shards a model across the GPUs of one node; multi-node is not supported",
                    "severity": "error",
                },
                {
                    "fieldPath": "spec.services.tgi.annotations[example.com/tgi-quantize]",
                    "message": "must be one of awq, bitsandbytes, bitsandbytes-fp4, bitsandbytes-nf4, eetq, exl2, "
                    "fp8, gptq, marlin; got `int3`",
                    "severity": "error",
                },
                {
                    "fieldPath": "spec.services.tgi.extraPodSpec.mainContainer.args",
                    "message": "TGI needs the model to serve: add --model-id <repo or path> to the args, "
                    "or set MODEL_ID in envs",
                    "severity": "error",
                },
                {
                    "fieldPath": "spec.services.tgi.resources.limits.gpu",
                    "message": "no GPUs requested: TGI will run on CPU",
                    "severity": "warning",
                },
            ],
        )

    def test_the_model_may_come_from_model_id_forms_or_env(self):
        for command, args, env in [
            (None, ["--model-id=Qwen/x"], None),
            (["text-generation-launcher", "--model-id", "Qwen/x"], None, None),
            (None, None, [{"name": "MODEL_ID", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "id"}}}]),
        ]:
            doc = base()
            main = doc["podTemplate"]["spec"]["containers"][0]
            main.pop("args")
            for key, value in (("command", command), ("args", args), ("env", env)):
                if value is not None:
                    main[key] = value
            self.assertEqual(harness.validate_json(WitWorld, doc), [], (command, args, env))

    def test_a_missing_main_container_needs_a_model(self):
        doc = base()
        doc["podTemplate"]["spec"]["containers"][0]["name"] = "sidecar"
        [d] = harness.validate_json(WitWorld, doc)
        self.assertEqual(d["fieldPath"], "spec.services.tgi.extraPodSpec.mainContainer.args")


class Render(unittest.TestCase):
    def test_the_fixture_renders_per_the_spec(self):
        out = render(base())["output"]
        main = main_of(out)
        self.assertEqual(main["command"], ["text-generation-launcher"])
        self.assertEqual(
            main["args"],
            ["--model-id", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--port", "8080", "--num-shard", "2", "--quantize", "awq"],
        )
        self.assertEqual(main["volumeMounts"], [{"name": "tgi-data", "mountPath": "/data"}])
        self.assertEqual(main["env"], [{"name": "HF_HUB_ENABLE_HF_TRANSFER", "value": "1"}])
        self.assertEqual(out["podTemplate"]["spec"]["volumes"], [{"name": "tgi-data", "emptyDir": {}}])
        self.assertEqual(out["podTemplate"]["metadata"], {"labels": {"app": "tgi"}})
        self.assertEqual(out["extraObjects"], [])
        self.assertEqual(out["warnings"], [])

    def test_the_first_validate_error_fails_the_render(self):
        doc = base()
        doc["placement"]["nodeCount"] = 2
        del doc["podTemplate"]["spec"]["containers"][0]["args"]
        self.assertEqual(
            render(doc),
            {
                "error": {
                    "invalidInput": {
                        "fieldPath": "spec.services.tgi.multinode.nodeCount",
                        "message": "TGI shards a model across the GPUs of one node; multi-node is not supported",
                        "severity": "error",
                    }
                }
            },
        )

    def test_cpu_only_warns_and_adds_no_shards(self):
        doc = base()
        doc["component"]["gpusPerNode"] = 0
        doc["graph"]["annotations"] = []
        out = render(doc)["output"]
        self.assertEqual(out["warnings"], ["spec.services.tgi.resources.limits.gpu: no GPUs requested: TGI will run on CPU"])
        self.assertEqual(main_of(out)["args"], ["--model-id", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--port", "8080"])

    def test_flags_already_present_are_kept(self):
        doc = base()
        main = doc["podTemplate"]["spec"]["containers"][0]
        main["command"] = ["/usr/local/bin/launcher"]
        main["args"] = ["--model-id", "m", "--port=9000", "--num-shard", "1", "--quantize", "gptq"]
        out = main_of(render(doc)["output"])
        self.assertEqual(out["command"], ["/usr/local/bin/launcher"])
        self.assertEqual(out["args"], ["--model-id", "m", "--port=9000", "--num-shard", "1", "--quantize", "gptq"])

    def test_a_shell_script_gets_quoted_flags(self):
        doc = base()
        main = doc["podTemplate"]["spec"]["containers"][0]
        main["command"] = ["/bin/bash", "-c"]
        main["args"] = ["text-generation-launcher"]
        # SPEC.md looks for --model-id among the argv's words, not inside a script: use MODEL_ID.
        main["env"] = [{"name": "MODEL_ID", "value": "Qwen/x"}]
        doc["graph"]["annotations"] = [{"key": "example.com/tgi-quantize", "value": "fp8"}]
        out = main_of(render(doc)["output"])
        self.assertEqual(out["command"], ["/bin/bash", "-c"])
        self.assertEqual(out["args"], ["text-generation-launcher --port 8080 --num-shard 2 --quantize fp8"])

    def test_a_script_in_command_only(self):
        doc = base()
        main = doc["podTemplate"]["spec"]["containers"][0]
        main.pop("args")
        main["command"] = ["sh", "-c", "exec text-generation-launcher"]
        main["env"] = [{"name": "MODEL_ID", "value": "Qwen/x"}]
        doc["graph"]["annotations"] = {"example.com/tgi-quantize": "bitsandbytes-nf4"}
        out = main_of(render(doc)["output"])
        self.assertNotIn("args", out)
        # The script is the argv's last word (SPEC.md render step 4), here the command's.
        self.assertEqual(
            out["command"], ["sh", "-c", "exec text-generation-launcher --port 8080 --num-shard 2 --quantize bitsandbytes-nf4"]
        )

    def test_an_existing_data_mount_and_env_are_kept(self):
        doc = base()
        main = doc["podTemplate"]["spec"]["containers"][0]
        main["volumeMounts"] = [{"name": "models", "mountPath": "/data"}]
        main["env"] = [{"name": "HF_HUB_ENABLE_HF_TRANSFER", "value": "0"}]
        doc["podTemplate"]["spec"]["volumes"] = [{"name": "models", "persistentVolumeClaim": {"claimName": "models"}}]
        out = render(doc)["output"]
        self.assertEqual(main_of(out)["volumeMounts"], main["volumeMounts"])
        self.assertEqual(main_of(out)["env"], main["env"])
        self.assertEqual(out["podTemplate"]["spec"]["volumes"], doc["podTemplate"]["spec"]["volumes"])

    def test_an_existing_tgi_data_volume_is_not_added_twice(self):
        doc = base()
        doc["podTemplate"]["spec"]["volumes"] = [{"name": "tgi-data", "emptyDir": {"medium": "Memory"}}]
        out = render(doc)["output"]
        self.assertEqual(out["podTemplate"]["spec"]["volumes"], [{"name": "tgi-data", "emptyDir": {"medium": "Memory"}}])
        self.assertEqual(main_of(out)["volumeMounts"], [{"name": "tgi-data", "mountPath": "/data"}])

    def test_errors_are_raised_as_err(self):
        doc = base()
        doc["placement"]["nodeCount"] = 3
        with self.assertRaises(Err) as caught:
            harness.render(WitWorld, doc)
        self.assertEqual(error_to_json(caught.exception)["invalidInput"]["fieldPath"], "spec.services.tgi.multinode.nodeCount")


if __name__ == "__main__":
    unittest.main()
