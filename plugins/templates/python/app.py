"""The `{{name}}` backend plugin for dynamo-operator, built into a WebAssembly component with componentize-py.

It renders the `main` container of every service whose backend framework is `{{name}}` (set by
`spec.backendFramework` or the service annotation `nvidia.com/backend-framework: {{name}}`):

- metadata: an HTTP engine on port 8000 with a health path, reading annotations that start with
  `example.com/{{name}}-`;
- validate: `example.com/{{name}}-max-batch-size`, when set, must be a positive integer; the
  service must run on one node;
- render (after `validate` found no error; its warnings join the output): adds `--port 8000` and
  `--max-batch-size <n>` to the engine's command line unless already there (in `args`, or inside
  an `sh -c` script), mounts an `emptyDir` model cache at `/cache` and points `HF_HOME` at it.

Edit it to fit your engine; `tests/` runs it natively and README.md says how to build and load it.
Generated for dynamo:backend@{{wit_version}} by dynamo-operator {{operator_version}} (SDK {{sdk_version}}).
"""

from __future__ import annotations

from dynamo_plugin import Plugin, error, export, flags, inputs, paths, plugin_metadata, pod, serving

NAME = "{{name}}"
VERSION = "0.1.0"
PORT = 8000
ANNOTATION_PREFIX = "example.com/{{name}}-"
MAX_BATCH_SIZE = ANNOTATION_PREFIX + "max-batch-size"
CACHE_VOLUME = "model-cache"
CACHE_PATH = "/cache"


def max_batch_size(input) -> str | None:
    """The `max-batch-size` annotation, or None when it is not set."""
    return inputs.annotation(input, MAX_BATCH_SIZE)


class Backend(Plugin):
    """The `{{name}}` engine: what it serves, what it accepts, and the flags it needs."""

    def metadata(self):
        """What the operator reads once when it loads the plugin."""
        return plugin_metadata(
            name=NAME,
            version=VERSION,
            frameworks=[NAME],
            # Not a Dynamo runtime: the host builds a plain pod and Service on these ports and
            # probes the health path on the first one.
            serving=serving([("http", PORT)], health_path="/health"),
            annotation_prefixes=[ANNOTATION_PREFIX],
        )

    def validate(self, input):
        """Findings for the admission webhook, each naming the field at fault."""
        found = []
        if input.placement.node_count > 1:
            found.append(error(paths.node_count(input), f"{NAME} runs on a single node"))
        value = max_batch_size(input)
        if value is not None and not (value.isascii() and value.isdigit() and int(value) > 0):
            found.append(error(paths.annotation(input, MAX_BATCH_SIZE), f"must be a positive integer; got `{value}`"))
        return found

    def render_pod(self, input, pod_dict, out):
        """Edits the pod template in place; `Plugin.render` has already run `validate` (an error
        stopped the render, its warnings are in `out`)."""
        main = pod.require_main_container(pod_dict)
        flags.add_flag(main, "--port", PORT)
        value = max_batch_size(input)
        if value is not None:
            flags.add_flag(main, "--max-batch-size", value)
        # Adds the pod volume and the main container's mount together, unless something is
        # mounted at the path already.
        pod.ensure_volume_and_mount(pod_dict, main, pod.empty_dir_volume(CACHE_VOLUME), CACHE_PATH)
        pod.set_env_if_absent(main, "HF_HOME", CACHE_PATH)


# componentize-py exports the class named `WitWorld` of this module.
WitWorld = export(Backend)
