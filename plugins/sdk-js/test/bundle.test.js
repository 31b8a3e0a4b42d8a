import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { BundleError, bundle } from '../bundle.js';

function project(files) {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-bundle-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function importBundle(dir, code) {
  const file = join(dir, `bundled-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, code);
  return import(pathToFileURL(file).href);
}

test('bundles relative imports of every supported form into one module', async () => {
  const dir = project({
    'src/main.js': [
      "import { twice, NAME as name } from './lib/math.js';",
      "import * as all from './lib/index.js';",
      'import {',
      '  Shape,',
      '  area,',
      "} from './lib/shapes.js';",
      "import './lib/side.js';",
      "export { VERSION } from './lib/index.js';",
      'export const { metadata, render } = { metadata: () => name, render: (x) => twice(x) + all.twice(1) };',
      'export function validate() { return [new Shape(2).size, area(3), all.NAME, all.renamed, globalThis.sideEffect]; }',
      '',
    ].join('\n'),
    'src/lib/math.js': 'export const NAME = "math";\nexport function twice(x) { return 2 * x; }\nconst hidden = 1;\nexport { hidden as renamed };\n',
    'src/lib/shapes.js': "import { twice } from './math.js';\nexport class Shape { constructor(n) { this.size = twice(n); } }\nexport const { area } = { area: (n) => n * n };\n",
    'src/lib/index.js': "export * from './math.js';\nexport { Shape as Figure } from './shapes.js';\nexport let VERSION = '1';\n",
    'src/lib/side.js': 'globalThis.sideEffect = "ran";\n',
  });
  const { code, modules } = bundle(join(dir, 'src/main.js'));
  assert.equal(modules.length, 5);
  assert.ok(modules.at(-1).endsWith('main.js'));
  assert.doesNotMatch(code, /^\s*import\s/m);
  const m = await importBundle(dir, code);
  assert.equal(m.metadata(), 'math');
  assert.equal(m.render(5), 12);
  assert.deepEqual(m.validate(), [4, 9, 'math', 1, 'ran']);
  assert.equal(m.VERSION, '1');
});

test('bundles the SDK itself (what every plugin imports)', async () => {
  const sdk = fileURLToPath(new URL('../index.js', import.meta.url));
  const dir = project({});
  const spec = relative(dir, sdk).split(sep).join('/');
  writeFileSync(
    join(dir, 'plugin.js'),
    `import { definePlugin, addFlags } from ${JSON.stringify(spec.startsWith('.') ? spec : `./${spec}`)};\n` +
      "export const plugin = definePlugin({ metadata: () => ({ name: 'x', version: '1' }), render: () => { const c = {}; addFlags(c, [['--a', 'b c']]); return { podTemplate: c }; } });\n" +
      'export const { metadata, render, validate } = plugin.wit;\n',
  );
  const m = await importBundle(dir, bundle(join(dir, 'plugin.js')).code);
  assert.equal(m.metadata().name, 'x');
  const out = m.render({ podTemplate: '{}', graph: {}, component: {}, placement: {}, infrastructure: {} });
  assert.deepEqual(JSON.parse(out.podTemplate), { args: ['--a', 'b c'] });
});

test('refuses what a component cannot load', () => {
  const cases = {
    bare: ["import { x } from 'lodash';\n", /cannot bundle import of `lodash`/],
    node: ["import { readFileSync } from 'node:fs';\n", /cannot bundle import of `node:fs`/],
    default: ["import { a } from './a.js';\n", /`export default` is not supported/, { 'a.js': 'export default 1;\n' }],
    missing: ["import { nope } from './a.js';\n", /a.js does not export `nope`/, { 'a.js': 'export const yes = 1;\n' }],
    cycle: ["import { a } from './a.js';\n", /import cycle/, { 'a.js': "import { b } from './b.js';\nexport const a = 1;\n", 'b.js': "import { a } from './a.js';\nexport const b = 1;\n" }],
    absent: ["import { a } from './gone.js';\n", /cannot read gone.js/],
    defaultImport: ["import a from './a.js';\n", /unsupported import `a`/, { 'a.js': 'export const a = 1;\n' }],
  };
  for (const [name, [main, pattern, extra = {}]] of Object.entries(cases)) {
    const dir = project({ 'main.js': main, ...extra });
    assert.throws(() => bundle(join(dir, 'main.js')), (e) => e instanceof BundleError && pattern.test(e.message), name);
  }
});
