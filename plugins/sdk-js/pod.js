// Helpers on a pod template (a plain `PodTemplateSpec` object) and its containers. Every helper
// edits in place, creates the lists it appends to, and leaves every other field untouched.

import { PluginError } from './contract.js';
import { POD_CONTAINERS_PATH } from './paths.js';

/** Name of the main container, the one that runs the engine. */
export const MAIN_CONTAINER = 'main';

/**
 * The container named `name` in `pod.spec.containers`, or `undefined`.
 * @param {object} pod a `PodTemplateSpec`.
 * @param {string} name
 * @returns {object | undefined}
 */
export function container(pod, name) {
  const list = pod?.spec?.containers;
  return Array.isArray(list) ? list.find((c) => c?.name === name) : undefined;
}

/**
 * The main container (named `main`), or `undefined`.
 * @param {object} pod a `PodTemplateSpec`.
 * @returns {object | undefined}
 */
export function mainContainer(pod) {
  return container(pod, MAIN_CONTAINER);
}

/**
 * The main container; throws `invalid-input` at `podTemplate.spec.containers`
 * (``no container named `main` ``) when there is none.
 * @param {object} pod a `PodTemplateSpec`.
 * @returns {object}
 * @throws {PluginError}
 */
export function requireMainContainer(pod) {
  const main = mainContainer(pod);
  if (!main) throw PluginError.invalidInput(POD_CONTAINERS_PATH, `no container named \`${MAIN_CONTAINER}\``);
  return main;
}

/**
 * A container's argv: its `command` followed by its `args` (either may be absent); `[]` for no container.
 * @param {object | undefined} c a container.
 * @returns {string[]}
 */
export function containerArgv(c) {
  return [...(c?.command ?? []), ...(c?.args ?? [])];
}

/**
 * The pod spec, created empty when absent.
 * @param {object} pod a `PodTemplateSpec`.
 * @returns {object}
 */
export function podSpec(pod) {
  pod.spec ??= {};
  return pod.spec;
}

/**
 * The pod's annotations (`metadata.annotations`), created empty when absent.
 * @param {object} pod a `PodTemplateSpec`.
 * @returns {Record<string, string>}
 */
export function podAnnotations(pod) {
  pod.metadata ??= {};
  pod.metadata.annotations ??= {};
  return pod.metadata.annotations;
}

/**
 * The pod's labels (`metadata.labels`), created empty when absent.
 * @param {object} pod a `PodTemplateSpec`.
 * @returns {Record<string, string>}
 */
export function podLabels(pod) {
  pod.metadata ??= {};
  pod.metadata.labels ??= {};
  return pod.metadata.labels;
}

/**
 * True when the container has an env var named `name`.
 * @param {object | undefined} c a container.
 * @param {string} name
 * @returns {boolean}
 */
export function hasEnv(c, name) {
  return (c?.env ?? []).some((e) => e?.name === name);
}

/**
 * The literal value of env var `name` in the container (`undefined` when absent or not literal).
 * @param {object | undefined} c a container.
 * @param {string} name
 * @returns {string | undefined}
 */
export function envValue(c, name) {
  const found = (c?.env ?? []).find((e) => e?.name === name);
  return found?.value;
}

/**
 * Appends env var `{name, value}` to the container's `env` (creating it) unless one named
 * `name` exists.
 * @param {object} c a container.
 * @param {string} name
 * @param {string} value
 * @returns {boolean} true when it was added.
 */
export function setEnvIfAbsent(c, name, value) {
  if (hasEnv(c, name)) return false;
  c.env ??= [];
  c.env.push({ name, value: String(value) });
  return true;
}

/**
 * True when the container has a volume mount whose `mountPath` is exactly `path`.
 * @param {object | undefined} c a container.
 * @param {string} path
 * @returns {boolean}
 */
export function hasMountAtPath(c, path) {
  return (c?.volumeMounts ?? []).some((m) => m?.mountPath === path);
}

/**
 * True when the pod has a volume named `name`.
 * @param {object} pod a `PodTemplateSpec`.
 * @param {string} name
 * @returns {boolean}
 */
export function hasVolume(pod, name) {
  return (pod?.spec?.volumes ?? []).some((v) => v?.name === name);
}

/**
 * Ensures a volume and its mount together: unless the container already has a mount at
 * `mountPath`, adds `volume` to the end of `spec.volumes` (creating it; skipped when a volume of
 * that name exists) and `{name, mountPath, ...mount}` to the end of the container's `volumeMounts`
 * (creating it).
 *
 * @example ensureVolumeAndMount(pod, main, {name: 'tgi-data', emptyDir: {}}, '/data')
 * @param {object} pod a `PodTemplateSpec`.
 * @param {object} c the container to mount into (usually the main container).
 * @param {{name: string} & object} volume the pod volume, e.g. `{name: 'cache', emptyDir: {}}`.
 * @param {string} mountPath where to mount it.
 * @param {object} [mount] extra mount fields (`readOnly`, `subPath`, ...).
 * @returns {boolean} true when the mount was added (false: something is already mounted there).
 */
export function ensureVolumeAndMount(pod, c, volume, mountPath, mount = {}) {
  if (hasMountAtPath(c, mountPath)) return false;
  if (!hasVolume(pod, volume.name)) {
    const spec = podSpec(pod);
    spec.volumes ??= [];
    spec.volumes.push(volume);
  }
  c.volumeMounts ??= [];
  c.volumeMounts.push({ name: volume.name, mountPath, ...mount });
  return true;
}

/**
 * Sets a container port: replaces the port with the same name (or, failing that, the same
 * `containerPort`), else appends it to `ports` (creating it).
 * @param {object} c a container.
 * @param {{name?: string, containerPort: number, protocol?: string}} port
 * @returns {void}
 */
export function setPort(c, port) {
  c.ports ??= [];
  let at = port.name ? c.ports.findIndex((p) => p?.name === port.name) : -1;
  if (at < 0) at = c.ports.findIndex((p) => p?.containerPort === port.containerPort);
  if (at < 0) c.ports.push(port);
  else c.ports[at] = port;
}

/**
 * Replaces the container's probes: each of `startupProbe`, `livenessProbe`, `readinessProbe`
 * given as an object replaces the current one, given as `null` removes it, and left out
 * (`undefined`) keeps it.
 * @param {object} c a container.
 * @param {{startupProbe?: object | null, livenessProbe?: object | null, readinessProbe?: object | null}} probes
 * @returns {void}
 */
export function replaceProbes(c, probes) {
  for (const key of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    if (!(key in probes) || probes[key] === undefined) continue;
    if (probes[key] === null) delete c[key];
    else c[key] = probes[key];
  }
}

/**
 * An HTTP GET probe on a named (or numbered) port, for {@link replaceProbes}.
 * @param {string | number} port port name or number.
 * @param {string} path the HTTP path.
 * @param {object} [extra] more probe fields (`periodSeconds`, `failureThreshold`, ...).
 * @returns {object}
 */
export function httpProbe(port, path, extra = {}) {
  return { httpGet: { path, port }, ...extra };
}
