// Field paths for diagnostics and errors, as the operator names the fields of a
// DynamoGraphDeployment (`spec.services.<svc>....`) or of the render input (`podTemplate....`).

/** Path of the pod template's container list in the render input. */
export const POD_CONTAINERS_PATH = 'podTemplate.spec.containers';

function serviceName(serviceOrInput) {
  return typeof serviceOrInput === 'string' ? serviceOrInput : serviceOrInput.component.serviceName;
}

/**
 * `spec.services.<svc>` or `spec.services.<svc>.<suffix>`.
 * @param {string | {component: {serviceName: string}}} service the service name, or a render input (its `component.serviceName`).
 * @param {string} [suffix] the field below the service, e.g. `multinode.nodeCount`.
 * @returns {string}
 */
export function servicePath(service, suffix) {
  const base = `spec.services.${serviceName(service)}`;
  return suffix ? `${base}.${suffix}` : base;
}

/**
 * `spec.services.<svc>.annotations[<key>]`: where a service annotation is written.
 * @param {string | {component: {serviceName: string}}} service the service name or a render input.
 * @param {string} key the annotation key, e.g. `example.com/tgi-quantize`.
 * @returns {string}
 */
export function annotationPath(service, key) {
  return `${servicePath(service)}.annotations[${key}]`;
}

/**
 * `spec.services.<svc>.extraPodSpec.mainContainer` or `...mainContainer.<field>`.
 * @param {string | {component: {serviceName: string}}} service the service name or a render input.
 * @param {string} [field] a field of the container, e.g. `env`.
 * @returns {string}
 */
export function mainContainerPath(service, field) {
  return servicePath(service, field ? `extraPodSpec.mainContainer.${field}` : 'extraPodSpec.mainContainer');
}

/**
 * `spec.services.<svc>.extraPodSpec.mainContainer.args`: where the user writes engine flags.
 * @param {string | {component: {serviceName: string}}} service the service name or a render input.
 * @returns {string}
 */
export function mainContainerArgsPath(service) {
  return mainContainerPath(service, 'args');
}
