#!/usr/bin/env node
// Builds a JavaScript plugin into a WebAssembly component (Node only):
//
//   node dynamo-plugin-sdk/build.js src/plugin.js -o dist/NAME.wasm [--wit wit/dynamo-backend@0.3.0]
//
// 1. bundles the entry module and its relative imports into one file (`bundle.js`), written next
//    to the output as `<output>.bundle.js`;
// 2. runs `jco componentize <bundle> --wit <dir> --world-name plugin --disable all -o <output>`
//    (no WASI imports: the host gives plugins no clock, randomness or stdio anyway), with the `jco`
//    of the nearest `node_modules/.bin`, else the one on `PATH` (or `--jco <path>` / `$JCO`);
// 3. checks with `jco wit` that the component imports nothing but `dynamo:backend/types@0.3.0`.
//
// Options: --wit <dir>, --world <name> (default `plugin`), --bundle-only, --no-check, --jco <path>.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { argv, cwd, env, exit } from 'node:process';
import { fileURLToPath } from 'node:url';

import { bundle } from './bundle.js';
import { WIT_TYPES_INTERFACE, WIT_WORLD } from './contract.js';

/**
 * The `jco` command to run: `$JCO`, else the nearest `node_modules/.bin/jco` above `dir`, else `jco` (PATH).
 * @param {string} dir where to start looking.
 * @returns {string}
 */
export function findJco(dir) {
  if (env.JCO) return env.JCO;
  for (let d = resolve(dir); ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', '.bin', 'jco');
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) return 'jco';
  }
}

/**
 * The imports of a built component, as `jco wit` prints them (`import <name>;`).
 * @param {string} jco the jco command.
 * @param {string} wasm the component's path.
 * @returns {string[]}
 */
export function componentImports(jco, wasm) {
  const r = spawnSync(jco, ['wit', wasm], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`jco wit ${wasm} failed: ${r.stderr || r.error}`);
  return [...r.stdout.matchAll(/^\s*import\s+([^;]+);/gm)].map((m) => m[1].trim());
}

/**
 * Bundles and componentizes a plugin.
 * @param {{entry: string, out: string, wit?: string, world?: string, bundleOnly?: boolean, check?: boolean, jco?: string}} opts
 * @returns {{bundle: string, wasm?: string, bytes?: number, seconds?: number, imports?: string[]}}
 */
export function build(opts) {
  const out = resolve(opts.out);
  mkdirSync(dirname(out), { recursive: true });
  const bundlePath = out.replace(/\.wasm$/, '') + '.bundle.js';
  writeFileSync(bundlePath, bundle(opts.entry).code);
  if (opts.bundleOnly) return { bundle: bundlePath };

  const wit = resolve(opts.wit ?? 'wit/dynamo-backend@0.3.0');
  if (!existsSync(wit)) throw new Error(`WIT folder ${wit} not found (pass --wit <dir>)`);
  const jco = opts.jco ?? findJco(cwd());
  const started = Date.now();
  const r = spawnSync(
    jco,
    ['componentize', bundlePath, '--wit', wit, '--world-name', opts.world ?? WIT_WORLD, '--disable', 'all', '-o', out],
    { encoding: 'utf8' },
  );
  if (r.error) throw new Error(`cannot run ${jco}: ${r.error.message} (install jco, or run npm install)`);
  if (r.status !== 0) throw new Error(`jco componentize failed:\n${r.stderr}${r.stdout}`);
  const seconds = (Date.now() - started) / 1000;
  const result = { bundle: bundlePath, wasm: out, bytes: statSync(out).size, seconds };
  if (opts.check ?? true) {
    const imports = componentImports(jco, out);
    const unexpected = imports.filter((i) => i !== WIT_TYPES_INTERFACE);
    if (unexpected.length) throw new Error(`${out} imports ${unexpected.join(', ')}; only ${WIT_TYPES_INTERFACE} is allowed`);
    result.imports = imports;
  }
  return result;
}

function parseArgs(args) {
  const opts = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      if (i + 1 >= args.length) throw new Error(`${a} needs a value`);
      return args[++i];
    };
    if (a === '-o' || a === '--out') opts.out = value();
    else if (a === '--wit') opts.wit = value();
    else if (a === '--world') opts.world = value();
    else if (a === '--jco') opts.jco = value();
    else if (a === '--bundle-only') opts.bundleOnly = true;
    else if (a === '--no-check') opts.check = false;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (!opts.entry) opts.entry = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!opts.entry || !opts.out) {
    throw new Error('usage: build.js <entry.js> -o <out.wasm> [--wit <dir>] [--world <name>] [--bundle-only] [--no-check] [--jco <path>]');
  }
  return opts;
}

if (argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(resolve(argv[1]))) {
  try {
    const r = build(parseArgs(argv.slice(2)));
    if (r.wasm) {
      console.log(`built ${r.wasm}: ${(r.bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(1)} s; imports: ${(r.imports ?? ['(not checked)']).join(', ')}`);
    } else {
      console.log(`bundled ${r.bundle}`);
    }
  } catch (e) {
    console.error(`build: ${e.message}`);
    exit(1);
  }
}
