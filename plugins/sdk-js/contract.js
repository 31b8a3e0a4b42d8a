// The `dynamo:backend@0.3.0` contract in plain JavaScript: errors, diagnostics, and conversions
// between the JSON form (fixtures, conformance vectors, `dynamo-operator render --plugin-input`)
// and the form componentize-js uses for the WIT types.
//
// Two representations of the same values:
//
// - **JSON form** (what plugin code sees and what fixtures contain): camelCase keys, enums as
//   lowercase strings, absent options as `null`, `podTemplate` and ConfigMaps as embedded objects,
//   extra objects as `{configMap: {...}}` / `{sshKeySecret: "name"}`, errors as
//   `{invalidInput: diagnostic}` / `{unsupported: "..."}` / `{internal: "..."}`.
// - **WIT form** (what componentize-js passes to and expects from the exports): the same camelCase
//   records, enums as kebab-case strings, absent options as `undefined`, `pod-template` and
//   ConfigMaps as JSON *text*, variants as `{tag: "config-map", val: "..."}`; a
//   `result<_, plugin-error>` error is *thrown* as an object carrying the variant in `payload`.

/** WIT package of the contract, without version. */
export const WIT_PACKAGE = 'dynamo:backend';
/** Contract version this SDK targets. */
export const WIT_VERSION = '0.3.0';
/** The world every plugin exports. */
export const WIT_WORLD = 'plugin';
/** The types interface as a built component imports it. */
export const WIT_TYPES_INTERFACE = 'dynamo:backend/types@0.3.0';
/** Version of this SDK. */
export const SDK_VERSION = '0.1.0';

/** Allowed values of the `deployer` enum. */
export const DEPLOYERS = Object.freeze(['none', 'lws', 'grove']);
/** Allowed values of the `role` enum. */
export const ROLES = Object.freeze(['main', 'leader', 'worker']);
/** Allowed values of the `severity` enum. */
export const SEVERITIES = Object.freeze(['error', 'warning']);
/** Allowed values of the `plugin-kind` enum. */
export const PLUGIN_KINDS = Object.freeze(['backend', 'launcher']);

const has = (obj, key) => obj != null && Object.prototype.hasOwnProperty.call(obj, key);

// ---------------------------------------------------------------------------------------------
// Diagnostics and errors
// ---------------------------------------------------------------------------------------------

/**
 * An error-severity diagnostic.
 * @param {string} fieldPath JSON-style path of the offending field.
 * @param {string} message What is wrong, in a sentence.
 * @returns {{fieldPath: string, message: string, severity: 'error'}}
 */
export function error(fieldPath, message) {
  return { fieldPath: String(fieldPath), message: String(message), severity: 'error' };
}

/**
 * A warning-severity diagnostic.
 * @param {string} fieldPath JSON-style path of the offending field.
 * @param {string} message What is wrong, in a sentence.
 * @returns {{fieldPath: string, message: string, severity: 'warning'}}
 */
export function warning(fieldPath, message) {
  return { fieldPath: String(fieldPath), message: String(message), severity: 'warning' };
}

/**
 * Formats a diagnostic as a render warning: `<fieldPath>: <message>` (just the message when the
 * path is empty).
 * @param {{fieldPath: string, message: string}} diagnostic
 * @returns {string}
 */
export function formatWarning(diagnostic) {
  return diagnostic.fieldPath ? `${diagnostic.fieldPath}: ${diagnostic.message}` : diagnostic.message;
}

/**
 * A failure a plugin reports on purpose; `throw` it from `render`.
 *
 * `payload` holds the WIT `plugin-error` variant (`{tag, val}`), which is what componentize-js
 * reads from a thrown value to return the `err` case of `result<render-output, plugin-error>`.
 * `toJSON()` gives the JSON form (`{invalidInput: {...}}`, `{unsupported: "..."}`, `{internal: "..."}`).
 */
export class PluginError extends Error {
  /**
   * @param {{tag: 'invalid-input', val: {fieldPath: string, message: string, severity: string}}
   *   | {tag: 'unsupported' | 'internal', val: string}} payload the WIT variant.
   */
  constructor(payload) {
    super(describeError(payload));
    this.name = 'PluginError';
    /** The WIT `plugin-error` variant. */
    this.payload = payload;
  }

  /**
   * `invalid-input`: the input cannot be rendered (always error severity).
   * @param {string} fieldPath the offending field.
   * @param {string} message what is wrong.
   * @returns {PluginError}
   */
  static invalidInput(fieldPath, message) {
    return new PluginError({ tag: 'invalid-input', val: error(fieldPath, message) });
  }

  /**
   * `unsupported`: the input asks for something this plugin does not support.
   * @param {string} message
   * @returns {PluginError}
   */
  static unsupported(message) {
    return new PluginError({ tag: 'unsupported', val: String(message) });
  }

  /**
   * `internal`: a bug in the plugin.
   * @param {string} message
   * @returns {PluginError}
   */
  static internal(message) {
    return new PluginError({ tag: 'internal', val: String(message) });
  }

  /**
   * Builds an error from its JSON form (`{invalidInput: {...}}`, `{unsupported: ".."}`,
   * `{internal: ".."}`).
   * @param {object} json
   * @returns {PluginError}
   */
  static fromJSON(json) {
    if (has(json, 'invalidInput')) {
      const d = json.invalidInput ?? {};
      return new PluginError({
        tag: 'invalid-input',
        val: { fieldPath: d.fieldPath ?? '', message: d.message ?? '', severity: d.severity ?? 'error' },
      });
    }
    if (has(json, 'unsupported')) return PluginError.unsupported(json.unsupported);
    if (has(json, 'internal')) return PluginError.internal(json.internal);
    throw new TypeError(`not a plugin error: ${JSON.stringify(json)}`);
  }

  /**
   * The JSON form of this error.
   * @returns {{invalidInput: {fieldPath: string, message: string, severity: string}}
   *   | {unsupported: string} | {internal: string}}
   */
  toJSON() {
    return errorToJson(this.payload);
  }
}

function describeError(payload) {
  switch (payload?.tag) {
    case 'invalid-input':
      return payload.val.fieldPath
        ? `invalid input at ${payload.val.fieldPath}: ${payload.val.message}`
        : `invalid input: ${payload.val.message}`;
    case 'unsupported':
      return `unsupported: ${payload.val}`;
    case 'internal':
      return `internal plugin error: ${payload.val}`;
    default:
      return `plugin error: ${JSON.stringify(payload)}`;
  }
}

/**
 * Converts a WIT `plugin-error` variant to its JSON form.
 * @param {{tag: string, val: any}} payload
 * @returns {object}
 */
export function errorToJson(payload) {
  switch (payload?.tag) {
    case 'invalid-input':
      return { invalidInput: diagnosticToJson(payload.val) };
    case 'unsupported':
      return { unsupported: payload.val };
    case 'internal':
      return { internal: payload.val };
    default:
      throw new TypeError(`not a plugin-error variant: ${JSON.stringify(payload)}`);
  }
}

/**
 * Any thrown value as a {@link PluginError}: a `PluginError` (or anything with a WIT `payload`)
 * stays as is, anything else becomes `internal` with its message (a bug in the plugin).
 * @param {unknown} thrown
 * @returns {PluginError}
 */
export function toPluginError(thrown) {
  if (thrown instanceof PluginError) return thrown;
  const payload = thrown?.payload;
  if (payload && ['invalid-input', 'unsupported', 'internal'].includes(payload.tag)) {
    return new PluginError(payload);
  }
  const text = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return PluginError.internal(`uncaught exception: ${text}`);
}

/**
 * Normalizes one diagnostic (JSON and WIT forms are the same shape); severity defaults to `error`.
 * @param {{fieldPath?: string, message?: string, severity?: string}} d
 * @returns {{fieldPath: string, message: string, severity: 'error' | 'warning'}}
 */
export function diagnosticToJson(d) {
  const severity = d?.severity ?? 'error';
  if (!SEVERITIES.includes(severity)) {
    throw new TypeError(`diagnostic severity must be one of ${SEVERITIES.join(', ')}; got ${JSON.stringify(severity)}`);
  }
  return { fieldPath: String(d?.fieldPath ?? ''), message: String(d?.message ?? ''), severity };
}

// ---------------------------------------------------------------------------------------------
// Render input
// ---------------------------------------------------------------------------------------------

function str(value, path, fallback = '') {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new TypeError(`${path} must be a string; got ${JSON.stringify(value)}`);
  return value;
}

function optStr(value, path) {
  if (value === undefined || value === null) return null;
  return str(value, path);
}

function uint(value, path, fallback = 0) {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new TypeError(`${path} must be an unsigned 32-bit integer; got ${JSON.stringify(value)}`);
  }
  return value;
}

function bool(value, path) {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${path} must be a boolean; got ${JSON.stringify(value)}`);
  return value;
}

function oneOf(value, allowed, path, fallback) {
  if (value === undefined || value === null) return fallback;
  if (!allowed.includes(value)) {
    throw new TypeError(`${path} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function strList(value, path) {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TypeError(`${path} must be a list; got ${JSON.stringify(value)}`);
  return value.map((v, i) => str(v, `${path}[${i}]`));
}

/**
 * Normalizes annotations: a list of `{key, value}` or a plain `{key: value}` map, to a list.
 * @param {Array<{key: string, value: string}> | Record<string, string> | null | undefined} value
 * @param {string} [path]
 * @returns {Array<{key: string, value: string}>}
 */
export function normalizeAnnotations(value, path = 'graph.annotations') {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.map((kv, i) => ({
      key: str(kv?.key, `${path}[${i}].key`),
      value: str(kv?.value, `${path}[${i}].value`),
    }));
  }
  if (typeof value === 'object') {
    return Object.entries(value).map(([key, v]) => ({ key, value: str(v, `${path}[${key}]`) }));
  }
  throw new TypeError(`${path} must be a list of {key, value} or a map; got ${JSON.stringify(value)}`);
}

function parsePodTemplate(value, path) {
  if (value === undefined || value === null || value === '') return {};
  let pod = value;
  if (typeof value === 'string') {
    try {
      pod = JSON.parse(value);
    } catch (e) {
      throw PluginError.invalidInput('podTemplate', `not a PodTemplateSpec: ${e.message}`);
    }
  } else {
    pod = structuredClone(value);
  }
  if (pod === null || typeof pod !== 'object' || Array.isArray(pod)) {
    throw PluginError.invalidInput(path, 'not a PodTemplateSpec: expected a JSON object');
  }
  return pod;
}

/**
 * Normalizes a render input in JSON form (a fixture, a conformance vector's `input`): fills
 * defaults for omitted fields (empty strings and lists, 0, `null`; placement
 * `{deployer: "none", role: "main", nodeCount: 1, nodeRank: "0"}`), turns an annotation map into
 * a `{key, value}` list, parses a `podTemplate` given as text and deep-copies one given as an
 * object. Unknown keys are ignored, as the operator's own parser does.
 *
 * @param {object} [raw] the render input in JSON form.
 * @returns {import('./index.js').RenderInput} a fresh, complete input.
 * @throws {TypeError} when a field has the wrong type; {@link PluginError} when `podTemplate` is not a JSON object.
 */
export function normalizeInput(raw = {}) {
  const g = raw.graph ?? {};
  const c = raw.component ?? {};
  const p = raw.placement ?? {};
  const i = raw.infrastructure ?? {};
  return {
    graph: {
      name: str(g.name, 'graph.name'),
      namespace: str(g.namespace, 'graph.namespace'),
      dynamoNamespace: str(g.dynamoNamespace, 'graph.dynamoNamespace'),
      annotations: normalizeAnnotations(g.annotations),
    },
    component: {
      serviceName: str(c.serviceName, 'component.serviceName'),
      componentType: str(c.componentType, 'component.componentType'),
      subComponentType: optStr(c.subComponentType, 'component.subComponentType'),
      backendFramework: str(c.backendFramework, 'component.backendFramework'),
      replicas: uint(c.replicas, 'component.replicas'),
      gpusPerNode: uint(c.gpusPerNode, 'component.gpusPerNode'),
      gpuResource: str(c.gpuResource, 'component.gpuResource'),
      compilationCachePath: optStr(c.compilationCachePath, 'component.compilationCachePath'),
    },
    placement: {
      deployer: oneOf(p.deployer, DEPLOYERS, 'placement.deployer', 'none'),
      role: oneOf(p.role, ROLES, 'placement.role', 'main'),
      nodeCount: uint(p.nodeCount, 'placement.nodeCount', 1),
      leaderHost: str(p.leaderHost, 'placement.leaderHost'),
      workerHosts: strList(p.workerHosts, 'placement.workerHosts'),
      nodeRank: str(p.nodeRank, 'placement.nodeRank', '0'),
      needsShell: bool(p.needsShell, 'placement.needsShell'),
      needsDnsWait: bool(p.needsDnsWait, 'placement.needsDnsWait'),
    },
    infrastructure: {
      mpiSshSecretName: str(i.mpiSshSecretName, 'infrastructure.mpiSshSecretName'),
      waitForLeaderConfigMap: str(i.waitForLeaderConfigMap, 'infrastructure.waitForLeaderConfigMap'),
    },
    podTemplate: parsePodTemplate(raw.podTemplate, 'podTemplate'),
  };
}

/**
 * Converts the WIT `render-input` a component export receives to the JSON form plugin code sees
 * (options `undefined` → `null`, `podTemplate` text parsed).
 * @param {object} wit the `render-input` as componentize-js passes it.
 * @returns {import('./index.js').RenderInput}
 * @throws {PluginError} `invalid-input` at `podTemplate` when the text is not a JSON object.
 */
export function fromWitInput(wit) {
  return normalizeInput(wit);
}

/**
 * Converts a render input in JSON form to the WIT form (to call a component, e.g. a transpiled
 * one in tests): options `null` → `undefined`, `podTemplate` serialized to text.
 * @param {object} input a render input in JSON form (normalized first).
 * @returns {object} the WIT `render-input`.
 */
export function toWitInput(input) {
  const n = normalizeInput(input);
  return {
    graph: { ...n.graph, annotations: n.graph.annotations.map((kv) => ({ ...kv })) },
    component: {
      ...n.component,
      subComponentType: n.component.subComponentType ?? undefined,
      compilationCachePath: n.component.compilationCachePath ?? undefined,
    },
    placement: { ...n.placement },
    infrastructure: { ...n.infrastructure },
    podTemplate: JSON.stringify(n.podTemplate),
  };
}

// ---------------------------------------------------------------------------------------------
// Render output
// ---------------------------------------------------------------------------------------------

function jsonText(value, path) {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') {
    throw PluginError.internal(`${path} must be a JSON object; got ${JSON.stringify(value)}`);
  }
  return JSON.stringify(value);
}

function parseJsonText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Normalizes a render output in JSON form: `extraObjects` and `warnings` default to `[]`;
 * `podTemplate` (and ConfigMaps) given as text are parsed.
 * @param {object} out
 * @returns {import('./index.js').RenderOutput}
 */
export function normalizeOutput(out) {
  if (out === null || typeof out !== 'object') {
    throw PluginError.internal(`render must return {podTemplate, extraObjects?, warnings?}; got ${JSON.stringify(out)}`);
  }
  const pod = typeof out.podTemplate === 'string' ? parseJsonText(out.podTemplate) : out.podTemplate;
  if (pod === null || typeof pod !== 'object' || Array.isArray(pod)) {
    throw PluginError.internal(`render output podTemplate must be a JSON object; got ${JSON.stringify(out.podTemplate)}`);
  }
  return {
    podTemplate: pod,
    extraObjects: (out.extraObjects ?? []).map((o, i) => {
      if (has(o, 'configMap')) {
        return { configMap: typeof o.configMap === 'string' ? parseJsonText(o.configMap) : o.configMap };
      }
      if (has(o, 'sshKeySecret')) return { sshKeySecret: String(o.sshKeySecret) };
      throw PluginError.internal(`extraObjects[${i}] must be {configMap} or {sshKeySecret}; got ${JSON.stringify(o)}`);
    }),
    warnings: (out.warnings ?? []).map(String),
  };
}

/**
 * Converts a render output in JSON form to the WIT `render-output` (objects to JSON text,
 * extra objects to `{tag, val}` variants).
 * @param {object} out
 * @returns {{podTemplate: string, extraObjects: Array<{tag: string, val: string}>, warnings: string[]}}
 */
export function toWitOutput(out) {
  const n = normalizeOutput(out);
  return {
    podTemplate: JSON.stringify(n.podTemplate),
    extraObjects: n.extraObjects.map((o, i) =>
      has(o, 'configMap')
        ? { tag: 'config-map', val: jsonText(o.configMap, `extraObjects[${i}].configMap`) }
        : { tag: 'ssh-key-secret', val: o.sshKeySecret },
    ),
    warnings: n.warnings,
  };
}

/**
 * Converts a WIT `render-output` back to the JSON form (JSON text parsed).
 * @param {{podTemplate: string, extraObjects: Array<{tag: string, val: string}>, warnings: string[]}} wit
 * @returns {import('./index.js').RenderOutput}
 */
export function fromWitOutput(wit) {
  return {
    podTemplate: parseJsonText(wit.podTemplate),
    extraObjects: (wit.extraObjects ?? []).map((o) => {
      if (o.tag === 'config-map') return { configMap: parseJsonText(o.val) };
      if (o.tag === 'ssh-key-secret') return { sshKeySecret: o.val };
      throw new TypeError(`unknown extra-object variant ${JSON.stringify(o)}`);
    }),
    warnings: [...(wit.warnings ?? [])],
  };
}

// ---------------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------------

/**
 * Normalizes plugin metadata in JSON form: lists default to `[]`, `kind` to `backend`,
 * `multinodeLauncher` and `serving` to `null`, `serving.healthPath` to `null`.
 * @param {object} m
 * @returns {import('./index.js').Metadata}
 */
export function normalizeMetadata(m) {
  if (!m || typeof m !== 'object') throw new TypeError('metadata must be an object');
  const serving = m.serving ?? null;
  return {
    name: str(m.name, 'metadata.name'),
    version: str(m.version, 'metadata.version'),
    kind: oneOf(m.kind, PLUGIN_KINDS, 'metadata.kind', 'backend'),
    frameworks: strList(m.frameworks, 'metadata.frameworks'),
    pythonModules: strList(m.pythonModules, 'metadata.pythonModules'),
    multinodeLauncher: optStr(m.multinodeLauncher, 'metadata.multinodeLauncher'),
    capabilities: strList(m.capabilities, 'metadata.capabilities'),
    serving:
      serving === null
        ? null
        : {
            dynamoRuntime: bool(serving.dynamoRuntime, 'metadata.serving.dynamoRuntime'),
            ports: (serving.ports ?? []).map((p, i) => {
              const number = p?.number;
              if (!Number.isInteger(number) || number < 0 || number > 65535) {
                throw new TypeError(`metadata.serving.ports[${i}].number must be a port number; got ${JSON.stringify(number)}`);
              }
              return { name: str(p.name, `metadata.serving.ports[${i}].name`), number };
            }),
            healthPath: optStr(serving.healthPath, 'metadata.serving.healthPath'),
          },
    annotationPrefixes: strList(m.annotationPrefixes, 'metadata.annotationPrefixes'),
  };
}

/**
 * Converts metadata in JSON form to the WIT `metadata` record (`null` options → `undefined`).
 * @param {object} m
 * @returns {object}
 */
export function toWitMetadata(m) {
  const n = normalizeMetadata(m);
  return {
    ...n,
    multinodeLauncher: n.multinodeLauncher ?? undefined,
    serving: n.serving === null ? undefined : { ...n.serving, healthPath: n.serving.healthPath ?? undefined },
  };
}

/**
 * Converts the WIT `metadata` record back to the JSON form (`undefined` options → `null`).
 * @param {object} wit
 * @returns {import('./index.js').Metadata}
 */
export function fromWitMetadata(wit) {
  return normalizeMetadata(wit);
}

// ---------------------------------------------------------------------------------------------
// Questions about the input
// ---------------------------------------------------------------------------------------------

/**
 * The value of annotation `key` in `input.graph.annotations` (the last one wins on duplicates,
 * as in the operator), or `undefined`.
 * @param {{graph: {annotations: Array<{key: string, value: string}> | Record<string, string>}}} input
 * @param {string} key
 * @returns {string | undefined}
 */
export function annotation(input, key) {
  const list = normalizeAnnotations(input?.graph?.annotations);
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].key === key) return list[i].value;
  }
  return undefined;
}

/**
 * True when the pod being rendered is one pod of a multi-node group (`nodeCount > 1` and a
 * leader or worker role).
 * @param {{nodeCount: number, role: string}} placement
 * @returns {boolean}
 */
export function isMultinode(placement) {
  return placement.nodeCount > 1 && placement.role !== 'main';
}
