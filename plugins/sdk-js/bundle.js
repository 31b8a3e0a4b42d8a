// A deliberately small bundler for plugin sources (Node only, no dependencies).
//
// `jco componentize` reads one JavaScript file: it hands componentize-js the source text, so the
// component cannot resolve `import ... from "./other.js"`. `bundle()` inlines every module the
// entry reaches through *relative* imports into one ES module:
//
// - each imported module becomes an immediately invoked function whose value is a frozen object of
//   its exports, in dependency order (cycles are refused);
// - `import {a, b as c} from "./x.js"` becomes `const {a, b: c} = <x>;`,
//   `import * as ns from "./x.js"` becomes `const ns = <x>;`;
// - `export function|class|const|let|var`, `export {a, b as c}`, `export {..} from` and
//   `export * from` are understood; `export default` and bare or `node:` imports are refused (a
//   component has nothing to import them from);
// - the entry module keeps its own exports (the component's `metadata`, `render`, `validate`).
//
// Statements are recognised line-wise: each `import`/`export` must start its line (after
// indentation), as any formatter writes them. It is not a JavaScript parser: it is enough for the
// SDK and for plugins written in the same plain style, and it fails loudly on anything else.

import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const ID = '[A-Za-z_$][\\w$]*';
const QUOTED = `(['"])([^'"\\n]+)\\`;
const RE = {
  importFrom: new RegExp(`^[ \\t]*import\\s*([\\w$\\s{},*]+?)\\s*from\\s*${QUOTED}2[ \\t]*;?`, 'gm'),
  importBare: new RegExp(`^[ \\t]*import\\s*${QUOTED}1[ \\t]*;?`, 'gm'),
  exportDefault: /^[ \t]*export\s+default\b/m,
  exportListFrom: new RegExp(`^[ \\t]*export\\s*\\{([\\w$\\s,]*)\\}\\s*from\\s*${QUOTED}2[ \\t]*;?`, 'gm'),
  exportStarFrom: new RegExp(`^[ \\t]*export\\s*\\*\\s*(?:as\\s+(${ID})\\s*)?from\\s*${QUOTED}2[ \\t]*;?`, 'gm'),
  exportList: /^[ \t]*export\s*\{([\w$\s,]*)\}[ \t]*;?/gm,
  exportDecl: new RegExp(`^([ \\t]*)export\\s+((?:async\\s+)?function\\b\\s*\\*?\\s*(${ID})|class\\s+(${ID})|(?:const|let|var)\\s+(${ID}))`, 'gm'),
  exportDestructure: /^([ \t]*)export\s+((?:const|let|var)\s*\{([\w$\s,:]*)\})/gm,
  anyImportExport: /^[ \t]*(import|export)\b(?!\s*\()/gm,
};

/** A bundling failure, naming the file. */
export class BundleError extends Error {
  /**
   * @param {string} file the module's path.
   * @param {string} message what is wrong.
   */
  constructor(file, message) {
    super(`${file}: ${message}`);
    this.name = 'BundleError';
  }
}

/**
 * Parses `a, b as c` (an import or export list) into `[[from, to], ...]`.
 * @param {string} list
 * @returns {Array<[string, string]>}
 */
function parseList(list) {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const m = item.match(new RegExp(`^(${ID})(?:\\s+as\\s+(${ID}))?$`));
      if (!m) throw new Error(`cannot read \`${item}\``);
      return [m[1], m[2] ?? m[1]];
    });
}

/**
 * Bundles `entry` and every module it reaches through relative imports into one ES module.
 * @param {string} entry path of the plugin's entry module (the one exporting `metadata`, `render`, `validate`).
 * @param {{banner?: string}} [options]
 * @returns {{code: string, modules: string[]}} the bundled source and the paths it inlined (entry last).
 * @throws {BundleError}
 */
export function bundle(entry, options = {}) {
  const entryPath = resolve(entry);
  const root = dirname(entryPath);
  /** @type {Map<string, {id: string, exports: Map<string, string> | null, code: string}>} */
  const modules = new Map();
  const order = [];
  const visiting = new Set();
  let counter = 0;

  const rel = (p) => relative(root, p) || p;

  function load(path, isEntry, from) {
    if (modules.has(path)) return modules.get(path);
    if (visiting.has(path)) throw new BundleError(rel(from), `import cycle through ${rel(path)}`);
    visiting.add(path);
    let source;
    try {
      source = readFileSync(path, 'utf8');
    } catch (e) {
      throw new BundleError(rel(from ?? path), `cannot read ${rel(path)}: ${e.message}`);
    }
    const file = rel(path);
    const fail = (message) => {
      throw new BundleError(file, message);
    };
    const id = `__dynamo_module_${counter++}`;
    const record = { id, exports: isEntry ? null : new Map(), code: '' };
    const dep = (spec) => {
      if (!spec.startsWith('./') && !spec.startsWith('../')) {
        fail(`cannot bundle import of \`${spec}\`: a component can only import relative modules of its own`);
      }
      return load(resolve(dirname(path), spec), false, path);
    };
    const exportName = (m, name) => {
      if (!m.exports.has(name)) fail(`${rel(m.path)} does not export \`${name}\``);
      return `${m.id}.${name}`;
    };

    let code = source.replace(/^#!.*/, '');
    if (RE.exportDefault.test(code)) fail('`export default` is not supported; use named exports');

    code = code.replace(RE.importFrom, (_, clause, _q, spec) => {
      const m = dep(spec);
      const c = clause.trim();
      const star = c.match(new RegExp(`^\\*\\s*as\\s+(${ID})$`));
      if (star) return `const ${star[1]} = ${m.id};`;
      const named = c.match(/^\{([\w$\s,]*)\}$/);
      if (!named) fail(`unsupported import \`${c}\` from \`${spec}\` (use \`{...}\` or \`* as name\`)`);
      const pairs = parseList(named[1]);
      pairs.forEach(([from]) => exportName(m, from));
      return `const { ${pairs.map(([f, t]) => (f === t ? f : `${f}: ${t}`)).join(', ')} } = ${m.id};`;
    });
    code = code.replace(RE.importBare, (_, _q, spec) => {
      dep(spec);
      return '';
    });
    code = code.replace(RE.exportListFrom, (_, list, _q, spec) => {
      const m = dep(spec);
      const pairs = parseList(list);
      if (isEntry) {
        return pairs.map(([f, t]) => `const __reexport_${t} = ${exportName(m, f)}; export { __reexport_${t} as ${t} };`).join(' ');
      }
      for (const [f, t] of pairs) record.exports.set(t, exportName(m, f));
      return '';
    });
    code = code.replace(RE.exportStarFrom, (_, ns, _q, spec) => {
      const m = dep(spec);
      const names = ns ? [[ns, m.id]] : [...m.exports.keys()].map((n) => [n, `${m.id}.${n}`]);
      if (isEntry) return names.map(([n, v]) => `const __reexport_${n} = ${v}; export { __reexport_${n} as ${n} };`).join(' ');
      for (const [n, v] of names) record.exports.set(n, v);
      return '';
    });
    if (!isEntry) {
      code = code.replace(RE.exportList, (_, list) => {
        for (const [f, t] of parseList(list)) record.exports.set(t, f);
        return '';
      });
      code = code.replace(RE.exportDestructure, (_, indent, decl, pattern) => {
        for (const [from, to] of parseList(pattern.replace(/:/g, ' as '))) {
          record.exports.set(to, to);
          void from;
        }
        return `${indent}${decl}`;
      });
      code = code.replace(RE.exportDecl, (_, indent, decl, fn, cls, v) => {
        const name = fn ?? cls ?? v;
        record.exports.set(name, name);
        return `${indent}${decl}`;
      });
      const left = code.match(RE.anyImportExport);
      if (left) fail(`unsupported \`${left[0].trim()}\` statement left after bundling`);
    } else {
      const left = [...code.matchAll(RE.anyImportExport)].filter((m) => m[1] === 'import');
      if (left.length) fail('unsupported `import` statement (use `import {...} from "./x.js"`)');
    }
    record.code = code;
    record.path = path;
    visiting.delete(path);
    modules.set(path, record);
    order.push(path);
    return record;
  }

  load(entryPath, true, undefined);

  const parts = [options.banner ?? `// Bundled by dynamo-plugin-sdk/bundle.js from ${rel(entryPath)}; do not edit.`];
  for (const path of order) {
    const m = modules.get(path);
    if (m.exports === null) {
      parts.push(`// ---- ${rel(path)}`, m.code);
    } else {
      const fields = [...m.exports].map(([name, value]) => (name === value ? name : `${name}: ${value}`));
      parts.push(
        `// ---- ${rel(path)}`,
        `const ${m.id} = (() => {`,
        m.code,
        `return Object.freeze({ ${fields.join(', ')} });`,
        '})();',
      );
    }
  }
  return { code: `${parts.join('\n')}\n`, modules: order };
}
