import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PluginError,
  annotation,
  annotationPath,
  definePlugin,
  error,
  fromWitInput,
  fromWitMetadata,
  fromWitOutput,
  isMultinode,
  mainContainerArgsPath,
  mainContainerPath,
  normalizeInput,
  servicePath,
  toPluginError,
  toWitInput,
  toWitMetadata,
  toWitOutput,
  warning,
} from '../index.js';

test('normalizeInput fills every default', () => {
  assert.deepEqual(normalizeInput({}), {
    graph: { name: '', namespace: '', dynamoNamespace: '', annotations: [] },
    component: {
      serviceName: '',
      componentType: '',
      subComponentType: null,
      backendFramework: '',
      replicas: 0,
      gpusPerNode: 0,
      gpuResource: '',
      compilationCachePath: null,
    },
    placement: {
      deployer: 'none',
      role: 'main',
      nodeCount: 1,
      leaderHost: '',
      workerHosts: [],
      nodeRank: '0',
      needsShell: false,
      needsDnsWait: false,
    },
    infrastructure: { mpiSshSecretName: '', waitForLeaderConfigMap: '' },
    podTemplate: {},
  });
});

test('annotations may be a map; the last duplicate wins', () => {
  const n = normalizeInput({ graph: { annotations: { a: '1', b: '2' } } });
  assert.deepEqual(n.graph.annotations, [
    { key: 'a', value: '1' },
    { key: 'b', value: '2' },
  ]);
  assert.equal(annotation({ graph: { annotations: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] } }, 'a'), '2');
  assert.equal(annotation(n, 'c'), undefined);
});

test('normalizeInput rejects wrong types and copies the pod template', () => {
  assert.throws(() => normalizeInput({ placement: { deployer: 'k8s' } }), /placement.deployer must be one of none, lws, grove/);
  assert.throws(() => normalizeInput({ component: { gpusPerNode: -1 } }), /component.gpusPerNode/);
  assert.throws(() => normalizeInput({ podTemplate: '[1]' }), PluginError);
  assert.throws(() => normalizeInput({ podTemplate: 'nope' }), (e) => e.payload.val.fieldPath === 'podTemplate');
  const pod = { spec: { containers: [] } };
  const n = normalizeInput({ podTemplate: pod });
  n.podTemplate.spec.containers.push({});
  assert.equal(pod.spec.containers.length, 0);
  assert.deepEqual(normalizeInput({ podTemplate: '{"spec":{}}' }).podTemplate, { spec: {} });
});

test('WIT input and JSON input convert both ways', () => {
  const json = normalizeInput({
    graph: { name: 'g', annotations: { k: 'v' } },
    component: { serviceName: 's', subComponentType: 'prefill' },
    placement: { deployer: 'lws', role: 'worker', nodeCount: 2, workerHosts: ['$(H1)'] },
    podTemplate: { spec: { containers: [{ name: 'main' }] } },
  });
  const wit = toWitInput(json);
  assert.equal(typeof wit.podTemplate, 'string');
  assert.equal(wit.component.subComponentType, 'prefill');
  assert.equal(wit.component.compilationCachePath, undefined);
  assert.ok(!('compilationCachePath' in wit.component) || wit.component.compilationCachePath === undefined);
  assert.deepEqual(fromWitInput(wit), json);
});

test('WIT output and metadata convert both ways', () => {
  const out = {
    podTemplate: { spec: {} },
    extraObjects: [{ configMap: { metadata: { name: 'g-p-x' } } }, { sshKeySecret: 'g-p-ssh' }],
    warnings: ['w'],
  };
  const wit = toWitOutput(out);
  assert.deepEqual(wit, {
    podTemplate: '{"spec":{}}',
    extraObjects: [
      { tag: 'config-map', val: '{"metadata":{"name":"g-p-x"}}' },
      { tag: 'ssh-key-secret', val: 'g-p-ssh' },
    ],
    warnings: ['w'],
  });
  assert.deepEqual(fromWitOutput(wit), out);
  assert.deepEqual(toWitOutput({ podTemplate: {} }), { podTemplate: '{}', extraObjects: [], warnings: [] });

  const meta = toWitMetadata({ name: 'p', version: '1.0.0', serving: { ports: [{ name: 'http', number: 80 }] } });
  assert.equal(meta.multinodeLauncher, undefined);
  assert.equal(meta.serving.healthPath, undefined);
  assert.equal(meta.kind, 'backend');
  assert.deepEqual(fromWitMetadata(meta), {
    name: 'p',
    version: '1.0.0',
    kind: 'backend',
    frameworks: [],
    pythonModules: [],
    multinodeLauncher: null,
    capabilities: [],
    serving: { dynamoRuntime: false, ports: [{ name: 'http', number: 80 }], healthPath: null },
    annotationPrefixes: [],
  });
});

test('PluginError carries the WIT variant and its JSON form', () => {
  const e = PluginError.invalidInput('a.b', 'bad');
  assert.deepEqual(e.payload, { tag: 'invalid-input', val: { fieldPath: 'a.b', message: 'bad', severity: 'error' } });
  assert.deepEqual(e.toJSON(), { invalidInput: { fieldPath: 'a.b', message: 'bad', severity: 'error' } });
  assert.equal(e.message, 'invalid input at a.b: bad');
  assert.deepEqual(PluginError.unsupported('x').toJSON(), { unsupported: 'x' });
  assert.deepEqual(PluginError.fromJSON({ internal: 'y' }).payload, { tag: 'internal', val: 'y' });
  assert.deepEqual(toPluginError(new TypeError('boom')).toJSON(), { internal: 'uncaught exception: TypeError: boom' });
  assert.deepEqual(toPluginError({ payload: { tag: 'unsupported', val: 'z' } }).toJSON(), { unsupported: 'z' });
});

test('field paths', () => {
  const input = { component: { serviceName: 'decode' } };
  assert.equal(servicePath(input), 'spec.services.decode');
  assert.equal(servicePath('decode', 'multinode.nodeCount'), 'spec.services.decode.multinode.nodeCount');
  assert.equal(annotationPath(input, 'example.com/x'), 'spec.services.decode.annotations[example.com/x]');
  assert.equal(mainContainerArgsPath(input), 'spec.services.decode.extraPodSpec.mainContainer.args');
  assert.equal(mainContainerPath('d', 'env'), 'spec.services.d.extraPodSpec.mainContainer.env');
  assert.ok(isMultinode({ nodeCount: 2, role: 'leader' }) && !isMultinode({ nodeCount: 2, role: 'main' }));
});

const demo = (extra = {}) =>
  definePlugin({
    metadata: () => ({ name: 'demo', version: '0.1.0', frameworks: ['demo'] }),
    validate: (input) => [
      ...(input.component.replicas > 3 ? [error('spec.services.x.replicas', 'too many')] : []),
      ...(input.component.replicas > 5 ? [error('spec.services.x.other', 'second error')] : []),
      warning('spec.services.x.a', 'first warning'),
      warning('', 'pathless'),
    ],
    render: (input, { diagnostics }) => {
      if (input.component.backendFramework === 'bug') null.x;
      if (input.component.backendFramework === 'no') throw PluginError.unsupported('no');
      input.podTemplate.seen = diagnostics.length;
      return { podTemplate: input.podTemplate, warnings: ['own'] };
    },
    ...extra,
  });

test('render validates first: first error fails, warnings lead the output warnings', () => {
  const p = demo();
  assert.deepEqual(p.render({}), { podTemplate: { seen: 2 }, extraObjects: [], warnings: ['spec.services.x.a: first warning', 'pathless', 'own'] });
  assert.throws(
    () => p.render({ component: { replicas: 9 } }),
    (e) => e instanceof PluginError && e.payload.val.fieldPath === 'spec.services.x.replicas',
  );
  const unchecked = demo({ validateBeforeRender: false });
  assert.deepEqual(unchecked.render({ component: { replicas: 9 } }).warnings, ['own']);
});

test('the WIT exports throw plugin errors with a payload, bugs as internal', () => {
  const p = demo();
  const wit = (c) => toWitInput({ component: c });
  assert.deepEqual(p.wit.render(wit({})), { podTemplate: '{"seen":2}', extraObjects: [], warnings: ['spec.services.x.a: first warning', 'pathless', 'own'] });
  assert.throws(() => p.wit.render(wit({ backendFramework: 'no' })), (e) => e.payload.tag === 'unsupported' && e.payload.val === 'no');
  assert.throws(
    () => p.wit.render(wit({ backendFramework: 'bug' })),
    (e) => e.payload.tag === 'internal' && e.payload.val.startsWith('uncaught exception: TypeError'),
  );
  assert.throws(() => p.wit.render({ ...wit({}), podTemplate: 'x' }), (e) => e.payload.tag === 'invalid-input' && e.payload.val.fieldPath === 'podTemplate');
  assert.deepEqual(p.wit.validate({ ...wit({}), podTemplate: 'x' }), [
    { fieldPath: 'podTemplate', message: e_msg(), severity: 'error' },
  ]);
  assert.equal(p.wit.validate(wit({ replicas: 4 })).length, 3);
  assert.deepEqual(p.wit.metadata().frameworks, ['demo']);
});

function e_msg() {
  try {
    JSON.parse('x');
  } catch (e) {
    return `not a PodTemplateSpec: ${e.message}`;
  }
}
