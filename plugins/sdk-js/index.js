// dynamo-plugin-sdk for JavaScript: write a dynamo-operator backend plugin as plain ES modules,
// build it into a WebAssembly component with jco / componentize-js (`build.js`), and test it
// natively under Node (`harness.js`). Everything exported here also runs inside the component;
// the harness and the build script are Node-only and live in their own modules.

export {
  DEPLOYERS,
  PLUGIN_KINDS,
  PluginError,
  ROLES,
  SDK_VERSION,
  SEVERITIES,
  WIT_PACKAGE,
  WIT_TYPES_INTERFACE,
  WIT_VERSION,
  WIT_WORLD,
  annotation,
  diagnosticToJson,
  error,
  errorToJson,
  formatWarning,
  fromWitInput,
  fromWitMetadata,
  fromWitOutput,
  isMultinode,
  normalizeAnnotations,
  normalizeInput,
  normalizeMetadata,
  normalizeOutput,
  toPluginError,
  toWitInput,
  toWitMetadata,
  toWitOutput,
  warning,
} from './contract.js';
export { definePlugin } from './plugin.js';
export {
  MAIN_CONTAINER,
  container,
  containerArgv,
  ensureVolumeAndMount,
  envValue,
  hasEnv,
  hasMountAtPath,
  hasVolume,
  httpProbe,
  mainContainer,
  podAnnotations,
  podLabels,
  podSpec,
  replaceProbes,
  requireMainContainer,
  setEnvIfAbsent,
  setPort,
} from './pod.js';
export { addFlags, appendArgs, hasFlag, isShell, shellExpr, shellQuote, shellScriptIndex, shellWord } from './flags.js';
export { POD_CONTAINERS_PATH, annotationPath, mainContainerArgsPath, mainContainerPath, servicePath } from './paths.js';
