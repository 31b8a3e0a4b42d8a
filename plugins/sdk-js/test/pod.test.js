import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PluginError,
  containerArgv,
  ensureVolumeAndMount,
  envValue,
  hasEnv,
  hasMountAtPath,
  httpProbe,
  mainContainer,
  podAnnotations,
  podLabels,
  replaceProbes,
  requireMainContainer,
  setEnvIfAbsent,
  setPort,
} from '../index.js';

const pod = () => ({
  metadata: { labels: { app: 'x' } },
  spec: {
    containers: [
      { name: 'sidecar', image: 's' },
      { name: 'main', image: 'm', command: ['tgi'], args: ['--a'] },
    ],
  },
});

test('the main container is found by name', () => {
  const p = pod();
  assert.equal(mainContainer(p).image, 'm');
  assert.equal(mainContainer({}), undefined);
  assert.deepEqual(containerArgv(mainContainer(p)), ['tgi', '--a']);
  assert.deepEqual(containerArgv(undefined), []);
  assert.throws(
    () => requireMainContainer({ spec: { containers: [] } }),
    (e) =>
      e instanceof PluginError &&
      JSON.stringify(e.toJSON()) ===
        JSON.stringify({ invalidInput: { fieldPath: 'podTemplate.spec.containers', message: 'no container named `main`', severity: 'error' } }),
  );
});

test('env is set only when absent', () => {
  const c = {};
  assert.ok(setEnvIfAbsent(c, 'A', '1'));
  assert.ok(!setEnvIfAbsent(c, 'A', '2'));
  assert.deepEqual(c.env, [{ name: 'A', value: '1' }]);
  assert.ok(hasEnv(c, 'A') && !hasEnv(c, 'B') && !hasEnv(undefined, 'A'));
  assert.equal(envValue(c, 'A'), '1');
});

test('ensureVolumeAndMount adds both, reuses a volume, respects a mount at the path', () => {
  const p = pod();
  const main = mainContainer(p);
  assert.ok(ensureVolumeAndMount(p, main, { name: 'cache', emptyDir: {} }, '/data'));
  assert.deepEqual(p.spec.volumes, [{ name: 'cache', emptyDir: {} }]);
  assert.deepEqual(main.volumeMounts, [{ name: 'cache', mountPath: '/data' }]);
  assert.ok(hasMountAtPath(main, '/data'));
  assert.ok(!ensureVolumeAndMount(p, main, { name: 'other', emptyDir: {} }, '/data'));
  assert.equal(p.spec.volumes.length, 1);
  // Existing volume of that name: only the mount is added.
  const side = p.spec.containers[0];
  assert.ok(ensureVolumeAndMount(p, side, { name: 'cache', emptyDir: {} }, '/cache', { readOnly: true }));
  assert.equal(p.spec.volumes.length, 1);
  assert.deepEqual(side.volumeMounts, [{ name: 'cache', mountPath: '/cache', readOnly: true }]);
  // No spec at all.
  const bare = {};
  ensureVolumeAndMount(bare, {}, { name: 'v', emptyDir: {} }, '/v');
  assert.deepEqual(bare, { spec: { volumes: [{ name: 'v', emptyDir: {} }] } });
});

test('setPort replaces by name, then by number, else appends', () => {
  const c = { ports: [{ name: 'http', containerPort: 80 }, { containerPort: 9090 }] };
  setPort(c, { name: 'http', containerPort: 8080 });
  setPort(c, { name: 'metrics', containerPort: 9090 });
  setPort(c, { name: 'grpc', containerPort: 50051, protocol: 'TCP' });
  assert.deepEqual(c.ports, [
    { name: 'http', containerPort: 8080 },
    { name: 'metrics', containerPort: 9090 },
    { name: 'grpc', containerPort: 50051, protocol: 'TCP' },
  ]);
});

test('replaceProbes replaces, removes with null, keeps what is left out', () => {
  const c = { startupProbe: { a: 1 }, livenessProbe: { b: 2 }, readinessProbe: { c: 3 } };
  replaceProbes(c, { startupProbe: null, readinessProbe: httpProbe('http', '/health', { periodSeconds: 5 }) });
  assert.deepEqual(c, { livenessProbe: { b: 2 }, readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5 } });
});

test('annotations and labels are created on demand', () => {
  const p = {};
  podAnnotations(p)['tgi.plugins.dynamo.nvidia.com/x'] = 'y';
  podLabels(p).l = 'v';
  assert.deepEqual(p, { metadata: { annotations: { 'tgi.plugins.dynamo.nvidia.com/x': 'y' }, labels: { l: 'v' } } });
});
