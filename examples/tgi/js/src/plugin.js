// The `tgi` example backend plugin (Hugging Face Text Generation Inference) in JavaScript,
// implementing examples/tgi/SPEC.md against dynamo:backend@0.3.0 with the JavaScript SDK.
// Built into a component by `npm run build` (the SDK's build.js bundles this module and the SDK,
// then runs `jco componentize`); tested natively by `npm test`.

import {
  addFlags,
  annotation,
  annotationPath,
  containerArgv,
  definePlugin,
  ensureVolumeAndMount,
  error,
  hasEnv,
  hasFlag,
  mainContainerArgsPath,
  mainContainer,
  requireMainContainer,
  servicePath,
  setEnvIfAbsent,
  warning,
} from '../../../../plugins/sdk-js/index.js';

/** The annotation that selects TGI's `--quantize` method. */
export const QUANTIZE_ANNOTATION = 'example.com/tgi-quantize';

/** Quantization methods TGI accepts, as SPEC.md lists them. */
export const QUANTIZE_METHODS = Object.freeze([
  'awq',
  'bitsandbytes',
  'bitsandbytes-fp4',
  'bitsandbytes-nf4',
  'eetq',
  'exl2',
  'fp8',
  'gptq',
  'marlin',
]);

/** The port TGI serves HTTP on. */
export const PORT = 8080;

/**
 * SPEC.md `validate`: multi-node, the quantize annotation, the model, the GPUs, in this order.
 * @param {import('../../../../plugins/sdk-js/index.js').RenderInput} input
 * @returns {import('../../../../plugins/sdk-js/index.js').Diagnostic[]}
 */
function validateTgi(input) {
  const diagnostics = [];
  if (input.placement.nodeCount > 1) {
    diagnostics.push(
      error(
        servicePath(input, 'multinode.nodeCount'),
        'TGI shards a model across the GPUs of one node; multi-node is not supported',
      ),
    );
  }
  const quantize = annotation(input, QUANTIZE_ANNOTATION);
  if (quantize !== undefined && !QUANTIZE_METHODS.includes(quantize)) {
    diagnostics.push(
      error(
        annotationPath(input, QUANTIZE_ANNOTATION),
        `must be one of ${QUANTIZE_METHODS.join(', ')}; got \`${quantize}\``,
      ),
    );
  }
  const main = mainContainer(input.podTemplate);
  if (!hasFlag(containerArgv(main), '--model-id') && !hasEnv(main, 'MODEL_ID')) {
    diagnostics.push(
      error(
        mainContainerArgsPath(input),
        'TGI needs the model to serve: add --model-id <repo or path> to the args, or set MODEL_ID in envs',
      ),
    );
  }
  if (input.component.gpusPerNode === 0) {
    diagnostics.push(warning(servicePath(input, 'resources.limits.gpu'), 'no GPUs requested: TGI will run on CPU'));
  }
  return diagnostics;
}

/**
 * SPEC.md `render` steps 2-7 (the SDK runs `validate` first: step 1).
 * @param {import('../../../../plugins/sdk-js/index.js').RenderInput} input
 * @returns {import('../../../../plugins/sdk-js/index.js').RenderResult}
 */
function renderTgi(input) {
  const pod = input.podTemplate;
  const main = requireMainContainer(pod);
  if (!Array.isArray(main.command) || main.command.length === 0) {
    main.command = ['text-generation-launcher'];
  }
  const flags = [['--port', String(PORT)]];
  if (input.component.gpusPerNode > 1) flags.push(['--num-shard', String(input.component.gpusPerNode)]);
  const quantize = annotation(input, QUANTIZE_ANNOTATION);
  if (quantize !== undefined) flags.push(['--quantize', quantize]);
  addFlags(main, flags);
  ensureVolumeAndMount(pod, main, { name: 'tgi-data', emptyDir: {} }, '/data');
  setEnvIfAbsent(main, 'HF_HUB_ENABLE_HF_TRANSFER', '1');
  return { podTemplate: pod };
}

/** The plugin, for native tests. */
export const plugin = definePlugin({
  metadata: () => ({
    name: 'tgi',
    version: '0.1.0',
    kind: 'backend',
    frameworks: ['tgi'],
    pythonModules: [],
    multinodeLauncher: null,
    capabilities: [],
    serving: { dynamoRuntime: false, ports: [{ name: 'http', number: PORT }], healthPath: '/health' },
    annotationPrefixes: ['example.com/tgi-'],
  }),
  validate: validateTgi,
  render: renderTgi,
});

// The component's exports (the `plugin` world of dynamo:backend@0.3.0).
export const { metadata, render, validate } = plugin.wit;
