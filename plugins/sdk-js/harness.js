// Test harness for plugin authors (Node only): run a plugin natively on fixture files in the
// `dynamo-operator render --plugin-input` format, run conformance vectors and report clear diffs,
// and load a built component (through `jco transpile`) to run the same checks against it.
//
// A "plugin" here is anything with `metadata()`, `render(input)` and `validate(input)` on the JSON
// form, `render` throwing a `PluginError` on failure: what `definePlugin` returns, and what
// `loadComponent` returns for a `.wasm`.

import { AssertionError } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import {
  PluginError,
  diagnosticToJson,
  fromWitMetadata,
  fromWitOutput,
  normalizeInput,
  normalizeOutput,
  toPluginError,
  toWitInput,
} from './contract.js';

/**
 * Reads a fixture: a render input as JSON (camelCase keys, `podTemplate` an embedded object,
 * omitted fields defaulted, annotations a list or a map), normalized.
 * @param {string} path
 * @returns {import('./index.js').RenderInput}
 */
export function loadFixture(path) {
  let raw;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read fixture ${path}: ${e.message}`);
  }
  try {
    return normalizeInput(raw);
  } catch (e) {
    throw new Error(`fixture ${path} is not a valid render input: ${e.message}`);
  }
}

function inputOf(input) {
  return typeof input === 'string' ? loadFixture(input) : normalizeInput(input);
}

/**
 * Renders a fixture (path) or an input (object) and returns the outcome in the conformance
 * vectors' `expect` shape: `{output: {podTemplate, extraObjects, warnings}}` or
 * `{error: {invalidInput: ...} | {unsupported: ...} | {internal: ...}}`.
 * @param {import('./index.js').HarnessPlugin} plugin
 * @param {string | object} input
 * @returns {{output: object} | {error: object}}
 */
export function runRender(plugin, input) {
  const n = inputOf(input);
  try {
    return { output: normalizeOutput(plugin.render(n)) };
  } catch (e) {
    if (e instanceof PluginError || e?.payload) return { error: toPluginError(e).toJSON() };
    throw e;
  }
}

/**
 * Renders and returns the output, throwing the plugin's error.
 * @param {import('./index.js').HarnessPlugin} plugin
 * @param {string | object} input a fixture path or an input object.
 * @returns {import('./index.js').RenderOutput}
 */
export function render(plugin, input) {
  return normalizeOutput(plugin.render(inputOf(input)));
}

/**
 * Validates a fixture (path) or an input (object).
 * @param {import('./index.js').HarnessPlugin} plugin
 * @param {string | object} input
 * @returns {Array<{fieldPath: string, message: string, severity: 'error' | 'warning'}>}
 */
export function runValidate(plugin, input) {
  return plugin.validate(inputOf(input)).map(diagnosticToJson);
}

/**
 * Differences between two JSON values, one line per difference, naming the path.
 * @param {unknown} expected
 * @param {unknown} actual
 * @param {string} [path] prefix for the paths.
 * @returns {string[]}
 */
export function diffJson(expected, actual, path = '') {
  const at = path || '(root)';
  const show = (v) => (v === undefined ? '(absent)' : JSON.stringify(v));
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const diffs = [];
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (i >= actual.length) diffs.push(`${path}[${i}]: missing, expected ${show(expected[i])}`);
      else if (i >= expected.length) diffs.push(`${path}[${i}]: unexpected ${show(actual[i])}`);
      else diffs.push(...diffJson(expected[i], actual[i], `${path}[${i}]`));
    }
    return diffs;
  }
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(expected) && isObj(actual)) {
    const diffs = [];
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
    for (const k of keys) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in actual)) diffs.push(`${p}: missing, expected ${show(expected[k])}`);
      else if (!(k in expected)) diffs.push(`${p}: unexpected ${show(actual[k])}`);
      else diffs.push(...diffJson(expected[k], actual[k], p));
    }
    return diffs;
  }
  if (Object.is(expected, actual) || (typeof expected === 'number' && expected === actual)) return [];
  return [`${at}: expected ${show(expected)}, got ${show(actual)}`];
}

/**
 * Reads a conformance vector (`{name, call, input, expect}`, see examples/tgi/SPEC.md).
 * @param {string} path
 * @returns {import('./index.js').Vector}
 */
export function loadVector(path) {
  let v;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read vector ${path}: ${e.message}`);
  }
  const problems = [];
  if (!['render', 'validate'].includes(v.call)) problems.push(`call must be render or validate; got ${JSON.stringify(v.call)}`);
  const kinds = ['output', 'error', 'diagnostics'].filter((k) => v.expect && k in v.expect);
  if (kinds.length !== 1) problems.push(`expect must have exactly one of output, error, diagnostics; got ${JSON.stringify(Object.keys(v.expect ?? {}))}`);
  if (problems.length) throw new Error(`vector ${path}: ${problems.join('; ')}`);
  return { ...v, name: v.name ?? basename(path), file: path };
}

/**
 * Every `*.json` vector in a directory, sorted by file name.
 * @param {string} dir
 * @returns {import('./index.js').Vector[]}
 */
export function loadVectors(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadVector(join(dir, f)));
}

/**
 * Runs one vector and compares: render output (`podTemplate` as a JSON value, `extraObjects`,
 * `warnings` in order), render error (exactly), or validate diagnostics (in order).
 * @param {import('./index.js').HarnessPlugin} plugin
 * @param {import('./index.js').Vector | string} vector a vector or its path.
 * @returns {{name: string, file?: string, pass: boolean, diffs: string[], actual: object}}
 */
export function checkVector(plugin, vector) {
  const v = typeof vector === 'string' ? loadVector(vector) : vector;
  let actual;
  try {
    actual = v.call === 'validate' ? { diagnostics: runValidate(plugin, v.input) } : runRender(plugin, v.input);
  } catch (e) {
    actual = { exception: `${e?.name ?? 'Error'}: ${e?.message ?? e}` };
  }
  const expected = { ...v.expect };
  if (expected.output) {
    expected.output = { extraObjects: [], warnings: [], ...expected.output };
    if (expected.output.extraObjects) expected.output = normalizeOutput(expected.output);
  }
  if (expected.diagnostics) expected.diagnostics = expected.diagnostics.map(diagnosticToJson);
  const diffs = diffJson(expected, actual);
  return { name: v.name, file: v.file, pass: diffs.length === 0, diffs, actual };
}

/**
 * Like {@link checkVector}, but throws an `AssertionError` listing the differences.
 * @param {import('./index.js').HarnessPlugin} plugin
 * @param {import('./index.js').Vector | string} vector
 * @returns {void}
 */
export function assertVector(plugin, vector) {
  const r = checkVector(plugin, vector);
  if (!r.pass) {
    throw new AssertionError({
      message: `vector ${JSON.stringify(r.name)}${r.file ? ` (${r.file})` : ''} failed:\n  ${r.diffs.join('\n  ')}\nactual: ${JSON.stringify(r.actual, null, 2)}`,
    });
  }
}

/**
 * Runs every vector of a directory; returns the failures (empty when all pass).
 * @param {import('./index.js').HarnessPlugin} plugin
 * @param {string} dir
 * @returns {Array<{name: string, file?: string, pass: boolean, diffs: string[], actual: object}>}
 */
export function checkVectors(plugin, dir) {
  return loadVectors(dir)
    .map((v) => checkVector(plugin, v))
    .filter((r) => !r.pass);
}

/**
 * Loads a built component as a harness plugin: transpiles it with `jco transpile` (jco from
 * `options.jco`, `$JCO` or PATH; about 20 s for a JavaScript component, so the result is cached
 * in `.transpiled/` beside the `.wasm`, keyed by its SHA-256) and instantiates it afresh for every
 * call, as the operator does. Errors come back as `PluginError`, traps as `Error`s.
 * @param {string} wasmPath
 * @param {{jco?: string, cacheDir?: string}} [options]
 * @returns {Promise<import('./index.js').HarnessPlugin>}
 */
export async function loadComponent(wasmPath, options = {}) {
  const jco = options.jco ?? process.env.JCO ?? 'jco';
  const wasm = resolve(wasmPath);
  const hash = createHash('sha256').update(readFileSync(wasm)).digest('hex');
  const dir = options.cacheDir ?? join(dirname(wasm), '.transpiled', basename(wasm, '.wasm'));
  const stamp = join(dir, 'stamp');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const args = ['transpile', wasm, '-o', dir, '--name', 'plugin', '--instantiation', 'sync', '--no-typescript', '-q'];
    const r = spawnSync(jco, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`jco transpile ${wasmPath} failed: ${r.stderr || r.error}`);
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
    writeFileSync(stamp, hash);
  }
  const { instantiate } = await import(`${pathToFileURL(join(dir, 'plugin.js')).href}?${hash}`);
  const cores = new Map();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.wasm'))) {
    cores.set(f, await WebAssembly.compile(await readFile(join(dir, f))));
  }
  const call = (fn) => fn(instantiate((name) => cores.get(name), {}));
  return {
    metadata: () => call((i) => fromWitMetadata(i.metadata())),
    validate: (input) => call((i) => i.validate(toWitInput(input)).map(diagnosticToJson)),
    render: (input) =>
      call((i) => {
        try {
          return fromWitOutput(i.render(toWitInput(input)));
        } catch (e) {
          if (e?.payload) throw toPluginError(e);
          throw new Error(`the component trapped: ${e?.message ?? e}`);
        }
      }),
  };
}

const USAGE = `usage: node dynamo-plugin-sdk/harness.js <command> [path] [--plugin src/plugin.js | --component dist/NAME.wasm]

  render <fixture.json>       render a fixture; prints {"output": ...} or {"error": ...}
  validate <fixture.json>     validate a fixture; prints the diagnostics
  metadata                    prints the metadata
  conformance <dir>           runs every vector of <dir>; prints the failures with their diffs

--plugin names the module exporting \`plugin\` (default src/plugin.js); --component runs a built
component instead (through jco transpile).`;

/**
 * The command line: `node harness.js <render|validate|metadata|conformance> [path] [--plugin m.js | --component x.wasm]`.
 * @param {string[]} args the arguments after the script.
 * @returns {Promise<number>} the exit code.
 */
export async function main(args) {
  let pluginPath = 'src/plugin.js';
  let componentPath;
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--plugin') pluginPath = args[++i];
    else if (args[i] === '--component') componentPath = args[++i];
    else if (args[i] === '-h' || args[i] === '--help') {
      console.log(USAGE);
      return 0;
    } else positional.push(args[i]);
  }
  const [command, path] = positional;
  if (!['render', 'validate', 'metadata', 'conformance'].includes(command) || (command !== 'metadata' && !path)) {
    console.error(USAGE);
    return 2;
  }
  let plugin;
  if (componentPath) {
    plugin = await loadComponent(componentPath);
  } else {
    const module = await import(pathToFileURL(resolve(pluginPath)).href);
    plugin = module.plugin;
    if (!plugin) throw new Error(`${pluginPath} does not export \`plugin\` (export const plugin = definePlugin(...))`);
  }
  const print = (value) => console.log(JSON.stringify(value, null, 2));
  switch (command) {
    case 'render': {
      const result = runRender(plugin, path);
      print(result);
      return result.error ? 1 : 0;
    }
    case 'validate': {
      const found = runValidate(plugin, path);
      print(found);
      return found.some((d) => d.severity === 'error') ? 1 : 0;
    }
    case 'metadata':
      print(plugin.metadata());
      return 0;
    default: {
      const vectors = loadVectors(path);
      const failures = vectors.map((v) => checkVector(plugin, v)).filter((r) => !r.pass);
      for (const f of failures) console.log(`FAIL ${f.name} (${f.file})\n  ${f.diffs.join('\n  ')}`);
      console.log(`${vectors.length - failures.length}/${vectors.length} vectors pass`);
      return failures.length ? 1 : 0;
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`harness: ${e.message}`);
      process.exit(1);
    },
  );
}
