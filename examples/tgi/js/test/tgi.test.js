// Direct unit tests of the tgi plugin (examples/tgi/SPEC.md), run natively with `node --test`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadFixture, render, runRender, runValidate } from '../../../../plugins/sdk-js/harness.js';
import { plugin } from '../src/plugin.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/graph.json', import.meta.url));

/** A minimal input: service `tgi`, one GPU, a main container with the given fields. */
function input({ main = { args: ['--model-id', 'm'] }, gpus = 1, annotations = {}, placement = {}, spec = {} } = {}) {
  return {
    graph: { name: 'g', namespace: 'ns', annotations },
    component: { serviceName: 'tgi', componentType: 'worker', backendFramework: 'tgi', gpusPerNode: gpus },
    placement,
    podTemplate: { spec: { containers: [{ name: 'main', image: 'tgi', ...main }], ...spec } },
  };
}

const mainOf = (out) => out.podTemplate.spec.containers.find((c) => c.name === 'main');

test('metadata matches SPEC.md', () => {
  assert.deepStrictEqual(plugin.metadata(), {
    name: 'tgi',
    version: '0.1.0',
    kind: 'backend',
    frameworks: ['tgi'],
    pythonModules: [],
    multinodeLauncher: null,
    capabilities: [],
    serving: { dynamoRuntime: false, ports: [{ name: 'http', number: 8080 }], healthPath: '/health' },
    annotationPrefixes: ['example.com/tgi-'],
  });
});

test('validate reports every rule, in order', () => {
  const diagnostics = runValidate(
    plugin,
    input({ main: {}, gpus: 0, annotations: { 'example.com/tgi-quantize': 'int3' }, placement: { nodeCount: 2, role: 'leader' } }),
  );
  assert.deepStrictEqual(diagnostics, [
    {
      fieldPath: 'spec.services.tgi.multinode.nodeCount',
      message: 'TGI shards a model across the GPUs of one node; multi-node is not supported',
      severity: 'error',
    },
    {
      fieldPath: 'spec.services.tgi.annotations[example.com/tgi-quantize]',
      message: 'must be one of awq, bitsandbytes, bitsandbytes-fp4, bitsandbytes-nf4, eetq, exl2, fp8, gptq, marlin; got `int3`',
      severity: 'error',
    },
    {
      fieldPath: 'spec.services.tgi.extraPodSpec.mainContainer.args',
      message: 'TGI needs the model to serve: add --model-id <repo or path> to the args, or set MODEL_ID in envs',
      severity: 'error',
    },
    { fieldPath: 'spec.services.tgi.resources.limits.gpu', message: 'no GPUs requested: TGI will run on CPU', severity: 'warning' },
  ]);
});

test('the model may come from --model-id=, the command, or MODEL_ID', () => {
  for (const main of [
    { args: ['--model-id=m'] },
    { command: ['text-generation-launcher', '--model-id', 'm'] },
    { env: [{ name: 'MODEL_ID', value: 'm' }] },
  ]) {
    assert.deepStrictEqual(runValidate(plugin, input({ main })), [], JSON.stringify(main));
  }
  // `--model-identity` is not `--model-id`.
  assert.equal(runValidate(plugin, input({ main: { args: ['--model-identity', 'm'] } })).length, 1);
});

test('the graph.yaml fixture renders with every flag, the cache and the env', () => {
  const fixture = loadFixture(FIXTURE);
  const out = render(plugin, FIXTURE);
  assert.deepStrictEqual(out.warnings, []);
  assert.deepStrictEqual(out.extraObjects, []);
  const expected = structuredClone(fixture.podTemplate);
  Object.assign(expected.spec.containers[0], {
    command: ['text-generation-launcher'],
    args: ['--model-id', 'Qwen/Qwen2.5-7B-Instruct-AWQ', '--port', '8080', '--num-shard', '2', '--quantize', 'awq'],
    volumeMounts: [{ name: 'tgi-data', mountPath: '/data' }],
    env: [{ name: 'HF_HUB_ENABLE_HF_TRANSFER', value: '1' }],
  });
  expected.spec.volumes = [{ name: 'tgi-data', emptyDir: {} }];
  assert.deepStrictEqual(out.podTemplate, expected);
});

test('flags already present are kept; a command is kept', () => {
  const out = render(
    plugin,
    input({
      gpus: 4,
      annotations: { 'example.com/tgi-quantize': 'fp8' },
      main: { command: ['/usr/bin/tgi'], args: ['--model-id', 'm', '--port=9000', '--num-shard', '2', '--quantize=gptq'] },
    }),
  );
  assert.deepStrictEqual(mainOf(out).command, ['/usr/bin/tgi']);
  assert.deepStrictEqual(mainOf(out).args, ['--model-id', 'm', '--port=9000', '--num-shard', '2', '--quantize=gptq']);
});

test('one GPU adds no --num-shard; an empty command is replaced', () => {
  const out = render(plugin, input({ main: { command: [], args: ['--model-id', 'm'] } }));
  assert.deepStrictEqual(mainOf(out).command, ['text-generation-launcher']);
  assert.deepStrictEqual(mainOf(out).args, ['--model-id', 'm', '--port', '8080']);
});

test('a shell script gets the flags appended to its last word', () => {
  // Only argv words count as flags (SPEC.md), so a script names its model through MODEL_ID.
  const env = [{ name: 'MODEL_ID', value: 'my model' }];
  const out = render(
    plugin,
    input({
      gpus: 2,
      annotations: { 'example.com/tgi-quantize': 'bitsandbytes-nf4' },
      main: { command: ['/bin/bash', '-c'], args: ['cd /srv && exec text-generation-launcher'], env },
    }),
  );
  assert.deepStrictEqual(mainOf(out).command, ['/bin/bash', '-c']);
  assert.deepStrictEqual(mainOf(out).args, [
    'cd /srv && exec text-generation-launcher --port 8080 --num-shard 2 --quantize bitsandbytes-nf4',
  ]);

  const inCommand = render(plugin, input({ main: { command: ['sh', '-c', 'text-generation-launcher'], env } }));
  assert.deepStrictEqual(mainOf(inCommand).command, ['sh', '-c', 'text-generation-launcher --port 8080']);
  assert.equal(mainOf(inCommand).args, undefined);

  // `-lc` is not `-c`: the flags go to args as words.
  const login = render(plugin, input({ main: { command: ['bash', '-lc', 'text-generation-launcher'], env } }));
  assert.deepStrictEqual(mainOf(login).args, ['--port', '8080']);
});

test('a mount at /data or an existing tgi-data volume is respected', () => {
  const mounted = render(
    plugin,
    input({ main: { args: ['--model-id', 'm'], volumeMounts: [{ name: 'models', mountPath: '/data' }] } }),
  );
  assert.deepStrictEqual(mainOf(mounted).volumeMounts, [{ name: 'models', mountPath: '/data' }]);
  assert.equal(mounted.podTemplate.spec.volumes, undefined);

  const volume = { name: 'tgi-data', persistentVolumeClaim: { claimName: 'cache' } };
  const reused = render(plugin, input({ spec: { volumes: [volume] } }));
  assert.deepStrictEqual(reused.podTemplate.spec.volumes, [volume]);
  assert.deepStrictEqual(mainOf(reused).volumeMounts, [{ name: 'tgi-data', mountPath: '/data' }]);
});

test('an existing HF_HUB_ENABLE_HF_TRANSFER is kept', () => {
  const env = [{ name: 'HF_HUB_ENABLE_HF_TRANSFER', value: '0' }];
  const out = render(plugin, input({ main: { args: ['--model-id', 'm'], env } }));
  assert.deepStrictEqual(mainOf(out).env, env);
});

test('warnings become render warnings; errors fail the render', () => {
  const cpu = runRender(plugin, input({ gpus: 0 }));
  assert.deepStrictEqual(cpu.output.warnings, ['spec.services.tgi.resources.limits.gpu: no GPUs requested: TGI will run on CPU']);

  assert.deepStrictEqual(runRender(plugin, input({ placement: { nodeCount: 2 } })), {
    error: {
      invalidInput: {
        fieldPath: 'spec.services.tgi.multinode.nodeCount',
        message: 'TGI shards a model across the GPUs of one node; multi-node is not supported',
        severity: 'error',
      },
    },
  });
});

test('without a main container the render fails (validate reports the model first)', () => {
  const r = runRender(plugin, { component: { serviceName: 'tgi', gpusPerNode: 1 }, podTemplate: { spec: { containers: [] } } });
  assert.equal(r.error.invalidInput.fieldPath, 'spec.services.tgi.extraPodSpec.mainContainer.args');
});

test('the input is not modified', () => {
  const raw = input({ gpus: 2 });
  const before = structuredClone(raw);
  render(plugin, raw);
  assert.deepStrictEqual(raw, before);
});
