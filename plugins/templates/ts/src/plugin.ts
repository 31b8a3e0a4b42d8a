// The `{{name}}` backend plugin for dynamo-operator, in TypeScript: `tsc` compiles it to
// `src/plugin.js`, which jco / componentize-js builds into a WebAssembly component.
//
// It renders the `main` container of every service whose backend framework is `{{name}}` (set by
// `spec.backendFramework` or the service annotation `nvidia.com/backend-framework: {{name}}`):
//
// - metadata: an HTTP engine on port 8000 with a health path, not a Dynamo runtime (the operator
//   builds a plain pod and Service for it), reading the annotations that start with
//   `example.com/{{name}}-`;
// - validate: `example.com/{{name}}-max-batch-size`, when set, must be a positive integer; the
//   service must run on one node;
// - render (after `validate` found no error; its warnings join the output): adds `--port 8000`
//   and `--max-batch-size <n>` to the engine's command line unless already there (in `args`, or
//   appended to an `sh -c` script), mounts an `emptyDir` model cache at `/cache` and points
//   `HF_HOME` at it.
//
// Edit it to fit your engine; `test/` runs it natively and README.md says how to build and load it.
// Generated for dynamo:backend@{{wit_version}} by dynamo-operator {{operator_version}} (SDK {{sdk_version}}).

import {
  addFlags,
  annotation,
  annotationPath,
  definePlugin,
  ensureVolumeAndMount,
  error,
  requireMainContainer,
  servicePath,
  setEnvIfAbsent,
} from '../dynamo-plugin-sdk/index.js';
import type { Diagnostic, Plugin, RenderInput, RenderResult, ShellArg } from '../dynamo-plugin-sdk/index.js';

/** Plugin name, and the backend framework it handles. */
export const NAME = '{{name}}';
/** The port the engine serves HTTP on. */
export const PORT = 8000;
/** The engine's health endpoint (200 when live and ready), probed on PORT. */
export const HEALTH_PATH = '/health';
/** Annotations this plugin reads beyond `nvidia.com/`. */
export const ANNOTATION_PREFIX = 'example.com/{{name}}-';
/** Service annotation whose value becomes `--max-batch-size <n>`. */
export const MAX_BATCH_SIZE = `${ANNOTATION_PREFIX}max-batch-size`;
/** Name of the model-cache volume. */
export const CACHE_VOLUME = 'model-cache';
/** Where the model cache is mounted. */
export const CACHE_PATH = '/cache';

/** `text` as a positive 32-bit integer (ASCII digits only), or `undefined`. */
export function positiveInteger(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && n <= 0xffffffff ? n : undefined;
}

export const plugin: Plugin = definePlugin({
  /** What the operator reads once when it loads the plugin. */
  metadata: () => ({
    name: NAME,
    version: '0.1.0',
    kind: 'backend',
    frameworks: [NAME],
    // Not a Dynamo runtime: the operator builds a plain pod and Service on these ports and
    // probes the health path on the first one.
    serving: { dynamoRuntime: false, ports: [{ name: 'http', number: PORT }], healthPath: HEALTH_PATH },
    annotationPrefixes: [ANNOTATION_PREFIX],
  }),

  /** Findings for the admission webhook, each naming the field at fault. */
  validate(input: RenderInput): Diagnostic[] {
    const found: Diagnostic[] = [];
    if (input.placement.nodeCount > 1) {
      found.push(error(servicePath(input, 'multinode.nodeCount'), `${NAME} runs on a single node`));
    }
    const value = annotation(input, MAX_BATCH_SIZE);
    if (value !== undefined && positiveInteger(value) === undefined) {
      found.push(error(annotationPath(input, MAX_BATCH_SIZE), `must be a positive integer; got \`${value}\``));
    }
    return found;
  },

  // The SDK runs `validate` before `render`: an error stops the render, warnings are added to
  // its output. So `render` need not check again. `input.podTemplate` is a fresh object to edit.
  render(input: RenderInput): RenderResult {
    const pod = input.podTemplate;
    const main = requireMainContainer(pod);

    const flags: ShellArg[][] = [['--port', String(PORT)]];
    const value = annotation(input, MAX_BATCH_SIZE);
    if (value !== undefined) flags.push(['--max-batch-size', value]);
    addFlags(main, flags);

    // Adds the pod volume and the main container's mount together, unless something is mounted
    // at the path already.
    ensureVolumeAndMount(pod, main, { name: CACHE_VOLUME, emptyDir: {} }, CACHE_PATH);
    setEnvIfAbsent(main, 'HF_HOME', CACHE_PATH);

    return { podTemplate: pod };
  },
});

// The component's exports: the `plugin` world of dynamo:backend@{{wit_version}}.
export const { metadata, render, validate } = plugin.wit;
