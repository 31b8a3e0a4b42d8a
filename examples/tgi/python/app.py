"""The `tgi` example backend plugin (Hugging Face Text Generation Inference), in Python.

Behaviour: `../SPEC.md`, identical to the Rust and JavaScript versions; `../conformance/*.json`
pins it. Built into a WebAssembly component with componentize-py (see README.md).
"""

from __future__ import annotations

from dynamo_plugin import Plugin, error, export, flags, inputs, paths, plugin_metadata, pod, serving, warning

NAME = "tgi"
VERSION = "0.1.0"
PORT = 8080
QUANTIZE = "example.com/tgi-quantize"
QUANTIZATIONS = ("awq", "bitsandbytes", "bitsandbytes-fp4", "bitsandbytes-nf4", "eetq", "exl2", "fp8", "gptq", "marlin")
LAUNCHER = "text-generation-launcher"
CACHE_VOLUME = "tgi-data"
CACHE_PATH = "/data"


def _main_container(input) -> dict | None:
    """The main container of the input's pod template; None when absent or unparsable."""
    try:
        return pod.main_container(pod.load(input))
    except Exception:
        return None


class Tgi(Plugin):
    """Renders a TGI server: launcher command, port and sharding flags, model cache, fast downloads."""

    def metadata(self):
        """SPEC.md "Metadata": a plain HTTP engine on port `http` 8080, probed on `/health`."""
        return plugin_metadata(
            name=NAME,
            version=VERSION,
            frameworks=[NAME],
            serving=serving([("http", PORT)], health_path="/health"),
            annotation_prefixes=["example.com/tgi-"],
        )

    def validate(self, input):
        """SPEC.md "validate": rules 1-4, in order."""
        found = []
        if input.placement.node_count > 1:
            found.append(
                error(paths.node_count(input), "TGI shards a model across the GPUs of one node; multi-node is not supported")
            )
        quantize = inputs.annotation(input, QUANTIZE)
        if quantize is not None and quantize not in QUANTIZATIONS:
            found.append(
                error(paths.annotation(input, QUANTIZE), f"must be one of {', '.join(QUANTIZATIONS)}; got `{quantize}`")
            )
        main = _main_container(input)
        if not flags.has_flag(flags.argv(main), "--model-id") and not pod.has_env(main, "MODEL_ID"):
            found.append(
                error(
                    paths.main_args(input),
                    "TGI needs the model to serve: add --model-id <repo or path> to the args, or set MODEL_ID in envs",
                )
            )
        if input.component.gpus_per_node == 0:
            found.append(warning(paths.gpu_limit(input), "no GPUs requested: TGI will run on CPU"))
        return found

    def render_pod(self, input, pod_dict, out):
        """SPEC.md "render" steps 2-6; step 1 (validate) and step 7 (warnings) are Plugin.render's."""
        main = pod.require_main_container(pod_dict)
        pod.set_command_if_empty(main, [LAUNCHER])
        flags.add_flag(main, "--port", PORT)
        gpus = input.component.gpus_per_node
        if gpus > 1:
            flags.add_flag(main, "--num-shard", gpus)
        quantize = inputs.annotation(input, QUANTIZE)
        if quantize is not None:
            flags.add_flag(main, "--quantize", quantize)
        pod.ensure_volume_and_mount(pod_dict, main, pod.empty_dir_volume(CACHE_VOLUME), CACHE_PATH)
        pod.set_env_if_absent(main, "HF_HUB_ENABLE_HF_TRANSFER", "1")


WitWorld = export(Tgi)
