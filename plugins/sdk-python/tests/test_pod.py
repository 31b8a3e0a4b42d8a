"""Pod template helpers and field paths."""

import unittest

from dynamo_plugin import Err, convert, paths, pod


def sample():
    return {"spec": {"containers": [{"name": "side"}, {"name": "main", "image": "i"}]}}


class Pod(unittest.TestCase):
    def test_load_and_dump(self):
        self.assertEqual(pod.load('{"spec": {}}'), {"spec": {}})
        self.assertEqual(pod.dump({"a": [1, "é"]}), '{"a":[1,"é"]}')
        for text in ["", "[]", "{"]:
            with self.assertRaises(Err) as caught:
                pod.load(text)
            self.assertEqual(convert.error_to_json(caught.exception)["invalidInput"]["fieldPath"], "podTemplate")
        self.assertEqual(pod.load(convert.input_from_json({"podTemplate": {"x": 1}})), {"x": 1})

    def test_main_container(self):
        p = sample()
        self.assertEqual(pod.main_container(p), {"name": "main", "image": "i"})
        self.assertIsNone(pod.main_container({}))
        self.assertIsNone(pod.main_container(None))
        self.assertIs(pod.require_main_container(p), p["spec"]["containers"][1])
        with self.assertRaises(Err) as caught:
            pod.require_main_container({"spec": {"containers": None}})
        self.assertEqual(
            convert.error_to_json(caught.exception),
            {"invalidInput": {"fieldPath": "podTemplate.spec.containers", "message": "no container named `main`", "severity": "error"}},
        )

    def test_command(self):
        c = {"command": []}
        self.assertTrue(pod.set_command_if_empty(c, ["x"]))
        self.assertFalse(pod.set_command_if_empty(c, ["y"]))
        self.assertEqual(c["command"], ["x"])

    def test_env(self):
        c = {"env": None}
        self.assertTrue(pod.set_env_if_absent(c, "A", "1"))
        self.assertFalse(pod.set_env_if_absent(c, "A", "2"))
        c["env"].append({"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "x"}}})
        self.assertTrue(pod.has_env(c, "B"))
        self.assertFalse(pod.has_env(None, "B"))
        self.assertEqual(c["env"][0], {"name": "A", "value": "1"})

    def test_volume_and_mount(self):
        p = sample()
        main = pod.main_container(p)
        self.assertTrue(pod.ensure_volume_and_mount(p, main, pod.empty_dir_volume("cache"), "/cache", readOnly=True))
        self.assertEqual(p["spec"]["volumes"], [{"name": "cache", "emptyDir": {}}])
        self.assertEqual(main["volumeMounts"], [{"name": "cache", "mountPath": "/cache", "readOnly": True}])
        self.assertTrue(pod.has_mount_at(main, "/cache"))
        self.assertFalse(pod.ensure_volume_and_mount(p, main, pod.empty_dir_volume("other"), "/cache"))
        side = pod.container(p, "side")
        self.assertTrue(pod.ensure_volume_and_mount(p, side, pod.empty_dir_volume("cache"), "/c2"))
        self.assertEqual(len(p["spec"]["volumes"]), 1)

    def test_port(self):
        c = {}
        pod.set_port(c, "http", 80)
        pod.set_port(c, "metrics", 9090, "TCP")
        pod.set_port(c, "http", 8080)
        self.assertEqual(c["ports"], [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}])

    def test_probes(self):
        c = {"livenessProbe": {"a": 1}, "readinessProbe": {"b": 2}}
        pod.replace_probes(c, liveness=None, startup={"httpGet": {"path": "/h", "port": "http"}})
        self.assertEqual(c, {"readinessProbe": {"b": 2}, "startupProbe": {"httpGet": {"path": "/h", "port": "http"}}})


class Paths(unittest.TestCase):
    def test_paths(self):
        i = convert.input_from_json({"component": {"serviceName": "decode"}})
        self.assertEqual(paths.service(i), "spec.services.decode")
        self.assertEqual(paths.service("x", "replicas"), "spec.services.x.replicas")
        self.assertEqual(paths.annotation(i, "example.com/a-b"), "spec.services.decode.annotations[example.com/a-b]")
        self.assertEqual(paths.main_args(i), "spec.services.decode.extraPodSpec.mainContainer.args")
        self.assertEqual(paths.main_command("d"), "spec.services.d.extraPodSpec.mainContainer.command")
        self.assertEqual(paths.main_container("d"), "spec.services.d.extraPodSpec.mainContainer")
        self.assertEqual(paths.node_count(i), "spec.services.decode.multinode.nodeCount")
        self.assertEqual(paths.gpu_limit(i), "spec.services.decode.resources.limits.gpu")
        self.assertEqual(paths.envs(i), "spec.services.decode.envs")
        self.assertEqual(paths.pod_template("spec.volumes"), "podTemplate.spec.volumes")
        self.assertEqual(paths.POD_CONTAINERS, "podTemplate.spec.containers")


if __name__ == "__main__":
    unittest.main()
