// Runs the `{{name}}` plugin natively on `test/fixtures/main.json` through the SDK's harness.
// `tsc` compiles this file to `test/plugin.test.js`, which `node --test` runs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { diffJson, loadFixture, runRender, runValidate } from '../dynamo-plugin-sdk/harness.js';
import type { K8sObject, PluginErrorJson, RenderInput, RenderOutput } from '../dynamo-plugin-sdk/index.js';
import { plugin, positiveInteger } from '../src/plugin.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/main.json', import.meta.url));

/** The fixture as a fresh object, to change per test. */
const fixture = (): RenderInput => loadFixture(FIXTURE);

/** The render's output, failing the test when the render failed. */
function rendered(input: string | RenderInput): RenderOutput {
  const result = runRender(plugin, input);
  if (!('output' in result)) assert.fail(`render failed: ${JSON.stringify(result.error)}`);
  return result.output;
}

/** The render's error, failing the test when the render succeeded. */
function renderError(input: RenderInput): PluginErrorJson {
  const result = runRender(plugin, input);
  if (!('error' in result)) assert.fail('render succeeded');
  return result.error;
}

const mainOf = (output: RenderOutput): K8sObject =>
  output.podTemplate.spec.containers.find((c: K8sObject) => c.name === 'main');

test('metadata', () => {
  const meta = plugin.metadata();
  assert.equal(meta.name, '{{name}}');
  assert.deepEqual(meta.frameworks, ['{{name}}']);
  assert.deepEqual(meta.serving, { dynamoRuntime: false, ports: [{ name: 'http', number: 8000 }], healthPath: '/health' });
  assert.deepEqual(meta.annotationPrefixes, ['example.com/{{name}}-']);
});

test('the fixture is valid', () => {
  assert.deepEqual(runValidate(plugin, FIXTURE), []);
});

test('render adds the flags, the cache and HF_HOME, and nothing else', () => {
  const output = rendered(FIXTURE);
  const main = mainOf(output);
  assert.deepEqual(main.args, ['--model', 'Qwen/Qwen3-0.6B', '--port', '8000', '--max-batch-size', '32']);
  assert.deepEqual(output.warnings, []);
  assert.deepEqual(output.extraObjects, []);

  const expected = fixture().podTemplate;
  const want = expected.spec.containers.find((c: K8sObject) => c.name === 'main');
  want.args = main.args;
  want.volumeMounts = [...(want.volumeMounts ?? []), { name: 'model-cache', mountPath: '/cache' }];
  want.env = [...(want.env ?? []), { name: 'HF_HOME', value: '/cache' }];
  expected.spec.volumes = [...(expected.spec.volumes ?? []), { name: 'model-cache', emptyDir: {} }];
  assert.deepEqual(diffJson(expected, output.podTemplate), []);
});

test('flags already set are kept', () => {
  const doc = fixture();
  doc.podTemplate.spec.containers[0].args = ['--port=9000', '--max-batch-size', '8'];
  assert.deepEqual(mainOf(rendered(doc)).args, ['--port=9000', '--max-batch-size', '8']);
});

test('flags go into a shell script', () => {
  const doc = fixture();
  Object.assign(doc.podTemplate.spec.containers[0], { command: ['sh', '-c'], args: ['exec serve --model Qwen/Qwen3-0.6B'] });
  assert.deepEqual(mainOf(rendered(doc)).args, ['exec serve --model Qwen/Qwen3-0.6B --port 8000 --max-batch-size 32']);
});

test('an invalid batch size is rejected', () => {
  const doc = fixture();
  doc.graph.annotations = [{ key: 'example.com/{{name}}-max-batch-size', value: 'lots' }];
  const diagnostic = {
    fieldPath: 'spec.services.engine.annotations[example.com/{{name}}-max-batch-size]',
    message: 'must be a positive integer; got `lots`',
    severity: 'error',
  };
  assert.deepEqual(runValidate(plugin, doc), [diagnostic]);
  assert.deepEqual(renderError(doc), { invalidInput: diagnostic });
});

test('multi-node is rejected', () => {
  const doc = fixture();
  doc.placement = { ...doc.placement, deployer: 'lws', role: 'leader', nodeCount: 2 };
  assert.deepEqual(runValidate(plugin, doc).map((d) => d.fieldPath), ['spec.services.engine.multinode.nodeCount']);
});

test('a pod without a main container is rejected', () => {
  const doc = fixture();
  doc.podTemplate.spec.containers[0].name = 'engine';
  const error = renderError(doc);
  assert.ok('invalidInput' in error, JSON.stringify(error));
  assert.equal(error.invalidInput.fieldPath, 'podTemplate.spec.containers');
});

test('positive integers', () => {
  assert.equal(positiveInteger('32'), 32);
  for (const bad of ['0', '', '-1', '+3', ' 4', '1.5', '99999999999']) assert.equal(positiveInteger(bad), undefined, bad);
});
