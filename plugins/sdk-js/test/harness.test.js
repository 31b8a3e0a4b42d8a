import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { PluginError, definePlugin, error, requireMainContainer, setEnvIfAbsent } from '../index.js';
import { assertVector, checkVector, checkVectors, diffJson, loadFixture, loadVectors, runRender, runValidate } from '../harness.js';

const plugin = definePlugin({
  metadata: () => ({ name: 'demo', version: '0.1.0' }),
  validate: (input) => (input.component.replicas > 2 ? [error('spec.services.s.replicas', 'at most 2')] : []),
  render: (input) => {
    if (input.component.backendFramework === 'other') throw PluginError.unsupported('other');
    setEnvIfAbsent(requireMainContainer(input.podTemplate), 'X', '1');
    return { podTemplate: input.podTemplate };
  },
});

const pod = { spec: { containers: [{ name: 'main' }] } };

function dirWith(files) {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-harness-'));
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(value));
  return dir;
}

test('diffJson names every difference', () => {
  assert.deepEqual(diffJson({ a: [1, { b: 2 }], c: 'x' }, { a: [1, { b: 3 }, 4], d: null }), [
    'a[1].b: expected 2, got 3',
    'a[2]: unexpected 4',
    'c: missing, expected "x"',
    'd: unexpected null',
  ]);
  assert.deepEqual(diffJson({ a: 1 }, { a: 1 }), []);
  assert.deepEqual(diffJson(1, '1'), ['(root): expected 1, got "1"']);
});

test('fixtures load with defaults; render and validate run on paths or objects', () => {
  const dir = dirWith({ 'f.json': { component: { serviceName: 's', replicas: 3 }, podTemplate: pod } });
  const fixture = loadFixture(join(dir, 'f.json'));
  assert.equal(fixture.placement.nodeRank, '0');
  assert.deepEqual(runValidate(plugin, join(dir, 'f.json')), [{ fieldPath: 'spec.services.s.replicas', message: 'at most 2', severity: 'error' }]);
  assert.deepEqual(runRender(plugin, join(dir, 'f.json')), {
    error: { invalidInput: { fieldPath: 'spec.services.s.replicas', message: 'at most 2', severity: 'error' } },
  });
  assert.deepEqual(runRender(plugin, { component: { backendFramework: 'other' } }), { error: { unsupported: 'other' } });
  assert.deepEqual(runRender(plugin, { podTemplate: pod }).output.podTemplate.spec.containers[0].env, [{ name: 'X', value: '1' }]);
  assert.throws(() => loadFixture(join(dir, 'missing.json')), /cannot read fixture/);
});

test('vectors pass, or fail with readable diffs', () => {
  const good = {
    name: 'adds X',
    call: 'render',
    input: { podTemplate: pod },
    expect: { output: { podTemplate: { spec: { containers: [{ name: 'main', env: [{ name: 'X', value: '1' }] }] } }, extraObjects: [], warnings: [] } },
  };
  const bad = { ...good, name: 'wrong', expect: { output: { podTemplate: pod, warnings: ['w'] } } };
  const validate = { name: 'v', call: 'validate', input: { component: { replicas: 3 } }, expect: { diagnostics: [] } };
  const error = { name: 'e', call: 'render', input: { component: { backendFramework: 'other' } }, expect: { error: { unsupported: 'other' } } };
  const dir = dirWith({ '1.json': good, '2.json': bad, '3.json': validate, '4.json': error });
  assert.equal(loadVectors(dir).length, 4);
  assert.ok(checkVector(plugin, good).pass);
  assert.ok(checkVector(plugin, error).pass);
  const failures = checkVectors(plugin, dir);
  assert.deepEqual(
    failures.map((f) => [f.name, f.diffs]),
    [
      [
        'wrong',
        ['output.podTemplate.spec.containers[0].env: unexpected [{"name":"X","value":"1"}]', 'output.warnings[0]: missing, expected "w"'],
      ],
      ['v', ['diagnostics[0]: unexpected {"fieldPath":"spec.services.s.replicas","message":"at most 2","severity":"error"}']],
    ],
  );
  assert.throws(() => assertVector(plugin, bad), /vector "wrong" failed:\n {2}output.podTemplate/);
  assert.throws(() => loadVectors(dirWith({ 'x.json': { call: 'render', input: {}, expect: {} } })), /exactly one of output, error, diagnostics/);
});
