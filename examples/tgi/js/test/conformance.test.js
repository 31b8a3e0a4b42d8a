// Every examples/tgi/conformance/*.json vector, run natively through the SDK harness; and, when
// the component has been built (`npm run build`) and `jco` is on PATH, through the component too.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { assertVector, loadComponent, loadVector } from '../../../../plugins/sdk-js/harness.js';
import { plugin } from '../src/plugin.js';

const VECTORS = fileURLToPath(new URL('../../conformance/', import.meta.url));
const WASM = fileURLToPath(new URL('../dist/tgi.wasm', import.meta.url));

// One test per file, so a malformed vector fails alone.
const files = existsSync(VECTORS) ? readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort() : [];

test('conformance vectors are present', { skip: files.length === 0 && 'no vectors in examples/tgi/conformance yet' }, () => {});

for (const file of files) {
  test(`native: ${file}`, () => assertVector(plugin, loadVector(join(VECTORS, file))));
}

const jco = process.env.JCO ?? 'jco';
const haveJco = spawnSync(jco, ['--version'], { encoding: 'utf8' }).status === 0;
const skipComponent = !existsSync(WASM) ? 'dist/tgi.wasm not built (npm run build)' : !haveJco ? 'jco not on PATH' : false;

test('component', { skip: skipComponent }, async (t) => {
  const component = await loadComponent(WASM, { jco });
  await t.test('metadata equals the native metadata', () => {
    assert.deepStrictEqual(component.metadata(), plugin.metadata());
  });
  for (const file of files) {
    await t.test(file, () => assertVector(component, loadVector(join(VECTORS, file))));
  }
});
