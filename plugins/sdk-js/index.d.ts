// Types of dynamo-plugin-sdk (JavaScript) for editor help. The JSON form is what plugin code sees;
// the Wit* types are what componentize-js passes across the component boundary.

/** A Kubernetes object (PodTemplateSpec, Container, ConfigMap, ...) as plain JSON. */
export type K8sObject = Record<string, any>;

export type Deployer = 'none' | 'lws' | 'grove';
export type Role = 'main' | 'leader' | 'worker';
export type Severity = 'error' | 'warning';
export type PluginKind = 'backend' | 'launcher';

export interface KeyValue {
  key: string;
  value: string;
}

export interface Graph {
  name: string;
  namespace: string;
  dynamoNamespace: string;
  /** Graph and service annotations the operator passes on (service values win). */
  annotations: KeyValue[];
}

export interface Component {
  serviceName: string;
  componentType: string;
  subComponentType: string | null;
  backendFramework: string;
  replicas: number;
  gpusPerNode: number;
  gpuResource: string;
  compilationCachePath: string | null;
}

export interface Placement {
  deployer: Deployer;
  role: Role;
  nodeCount: number;
  leaderHost: string;
  workerHosts: string[];
  nodeRank: string;
  needsShell: boolean;
  needsDnsWait: boolean;
}

export interface Infrastructure {
  mpiSshSecretName: string;
  waitForLeaderConfigMap: string;
}

/** A render input in JSON form (normalized: every field present). */
export interface RenderInput {
  graph: Graph;
  component: Component;
  placement: Placement;
  infrastructure: Infrastructure;
  /** The pod template rendered so far (a PodTemplateSpec); the main container is named `main`. */
  podTemplate: K8sObject;
}

/** A render input as a fixture may write it: any field may be omitted; annotations may be a map. */
export type RenderInputLike = {
  graph?: Partial<Omit<Graph, 'annotations'>> & { annotations?: KeyValue[] | Record<string, string> };
  component?: Partial<Component>;
  placement?: Partial<Placement>;
  infrastructure?: Partial<Infrastructure>;
  podTemplate?: K8sObject | string;
};

export type ExtraObject = { configMap: K8sObject } | { sshKeySecret: string };

export interface RenderOutput {
  podTemplate: K8sObject;
  extraObjects: ExtraObject[];
  warnings: string[];
}

/** What a plugin's render function may return (lists default to empty). */
export interface RenderResult {
  podTemplate: K8sObject;
  extraObjects?: ExtraObject[];
  warnings?: string[];
}

export interface Diagnostic {
  fieldPath: string;
  message: string;
  severity: Severity;
}

export interface ServingPort {
  name: string;
  number: number;
}

export interface Serving {
  dynamoRuntime: boolean;
  ports: ServingPort[];
  healthPath: string | null;
}

export interface Metadata {
  name: string;
  version: string;
  kind: PluginKind;
  frameworks: string[];
  pythonModules: string[];
  multinodeLauncher: string | null;
  capabilities: string[];
  serving: Serving | null;
  annotationPrefixes: string[];
}

/** Metadata as a plugin writes it: only name and version are required. */
export type MetadataLike = Pick<Metadata, 'name' | 'version'> &
  Partial<Omit<Metadata, 'serving'>> & { serving?: (Partial<Serving> & { ports?: ServingPort[] }) | null };

export type PluginErrorJson =
  | { invalidInput: Diagnostic }
  | { unsupported: string }
  | { internal: string };

export type WitPluginError =
  | { tag: 'invalid-input'; val: Diagnostic }
  | { tag: 'unsupported'; val: string }
  | { tag: 'internal'; val: string };

/** The WIT render-input as componentize-js passes it (options `undefined` when none). */
export interface WitRenderInput {
  graph: Graph;
  component: Omit<Component, 'subComponentType' | 'compilationCachePath'> & {
    subComponentType?: string;
    compilationCachePath?: string;
  };
  placement: Placement;
  infrastructure: Infrastructure;
  podTemplate: string;
}

export interface WitRenderOutput {
  podTemplate: string;
  extraObjects: Array<{ tag: 'config-map'; val: string } | { tag: 'ssh-key-secret'; val: string }>;
  warnings: string[];
}

export type WitMetadata = Omit<Metadata, 'multinodeLauncher' | 'serving'> & {
  multinodeLauncher?: string;
  serving?: { dynamoRuntime: boolean; ports: ServingPort[]; healthPath?: string };
};

export declare const WIT_PACKAGE: 'dynamo:backend';
export declare const WIT_VERSION: '0.3.0';
export declare const WIT_WORLD: 'plugin';
export declare const WIT_TYPES_INTERFACE: 'dynamo:backend/types@0.3.0';
export declare const SDK_VERSION: string;
export declare const DEPLOYERS: readonly Deployer[];
export declare const ROLES: readonly Role[];
export declare const SEVERITIES: readonly Severity[];
export declare const PLUGIN_KINDS: readonly PluginKind[];

/** A failure a plugin reports on purpose; throw it from render. */
export declare class PluginError extends Error {
  constructor(payload: WitPluginError);
  readonly payload: WitPluginError;
  static invalidInput(fieldPath: string, message: string): PluginError;
  static unsupported(message: string): PluginError;
  static internal(message: string): PluginError;
  static fromJSON(json: PluginErrorJson): PluginError;
  toJSON(): PluginErrorJson;
}

export declare function error(fieldPath: string, message: string): Diagnostic & { severity: 'error' };
export declare function warning(fieldPath: string, message: string): Diagnostic & { severity: 'warning' };
export declare function formatWarning(diagnostic: Pick<Diagnostic, 'fieldPath' | 'message'>): string;
export declare function errorToJson(payload: WitPluginError): PluginErrorJson;
export declare function toPluginError(thrown: unknown): PluginError;
export declare function diagnosticToJson(d: Partial<Diagnostic>): Diagnostic;
export declare function normalizeAnnotations(value: KeyValue[] | Record<string, string> | null | undefined, path?: string): KeyValue[];
export declare function normalizeInput(raw?: RenderInputLike): RenderInput;
export declare function fromWitInput(wit: WitRenderInput): RenderInput;
export declare function toWitInput(input: RenderInputLike): WitRenderInput;
export declare function normalizeOutput(out: RenderResult): RenderOutput;
export declare function toWitOutput(out: RenderResult): WitRenderOutput;
export declare function fromWitOutput(wit: WitRenderOutput): RenderOutput;
export declare function normalizeMetadata(m: MetadataLike): Metadata;
export declare function toWitMetadata(m: MetadataLike): WitMetadata;
export declare function fromWitMetadata(wit: WitMetadata): Metadata;
export declare function annotation(input: { graph: { annotations: KeyValue[] | Record<string, string> } }, key: string): string | undefined;
export declare function isMultinode(placement: Pick<Placement, 'nodeCount' | 'role'>): boolean;

/** A plugin on the JSON form, plus its component exports in `wit`. */
export interface Plugin {
  metadata(): Metadata;
  validate(input: RenderInputLike): Diagnostic[];
  /** Runs validate first (unless disabled); throws PluginError on failure. */
  render(input: RenderInputLike): RenderOutput;
  /** The component exports: `export const { metadata, render, validate } = plugin.wit;` */
  wit: {
    metadata(): WitMetadata;
    render(input: WitRenderInput): WitRenderOutput;
    validate(input: WitRenderInput): Diagnostic[];
  };
  spec: PluginSpec;
}

export interface PluginSpec {
  metadata(): MetadataLike;
  render(input: RenderInput, context: { diagnostics: Diagnostic[] }): RenderResult;
  validate?(input: RenderInput): Diagnostic[];
  /** Default true: render runs validate first (first error → invalid-input; warnings → render warnings). */
  validateBeforeRender?: boolean;
}

export declare function definePlugin(spec: PluginSpec): Plugin;

/** What the harness runs: a Plugin, or a component loaded with loadComponent. */
export interface HarnessPlugin {
  metadata(): Metadata;
  validate(input: RenderInputLike): Diagnostic[];
  render(input: RenderInputLike): RenderResult;
}

/** A conformance vector (examples/tgi/SPEC.md). */
export interface Vector {
  name: string;
  call: 'render' | 'validate';
  input: RenderInputLike;
  expect: { output: RenderResult } | { error: PluginErrorJson } | { diagnostics: Diagnostic[] };
  file?: string;
}

// Pod helpers
export declare const MAIN_CONTAINER: 'main';
export declare function container(pod: K8sObject, name: string): K8sObject | undefined;
export declare function mainContainer(pod: K8sObject): K8sObject | undefined;
export declare function requireMainContainer(pod: K8sObject): K8sObject;
export declare function containerArgv(c: K8sObject | undefined): string[];
export declare function podSpec(pod: K8sObject): K8sObject;
export declare function podAnnotations(pod: K8sObject): Record<string, string>;
export declare function podLabels(pod: K8sObject): Record<string, string>;
export declare function hasEnv(c: K8sObject | undefined, name: string): boolean;
export declare function envValue(c: K8sObject | undefined, name: string): string | undefined;
export declare function setEnvIfAbsent(c: K8sObject, name: string, value: string): boolean;
export declare function hasMountAtPath(c: K8sObject | undefined, path: string): boolean;
export declare function hasVolume(pod: K8sObject, name: string): boolean;
export declare function ensureVolumeAndMount(
  pod: K8sObject,
  c: K8sObject,
  volume: { name: string } & K8sObject,
  mountPath: string,
  mount?: K8sObject,
): boolean;
export declare function setPort(c: K8sObject, port: { name?: string; containerPort: number; protocol?: string } & K8sObject): void;
export declare function replaceProbes(
  c: K8sObject,
  probes: { startupProbe?: K8sObject | null; livenessProbe?: K8sObject | null; readinessProbe?: K8sObject | null },
): void;
export declare function httpProbe(port: string | number, path: string, extra?: K8sObject): K8sObject;

// Flags
export type ShellArg = string | { shellExpr: string };
export declare function shellQuote(word: string): string;
export declare function shellExpr(text: string): { shellExpr: string };
export declare function shellWord(arg: ShellArg): string;
export declare function hasFlag(argv: string[], flag: string): boolean;
export declare function isShell(word: string): boolean;
export declare function shellScriptIndex(argv: string[]): number;
export declare function appendArgs(c: K8sObject, words: ShellArg[]): 'script' | 'args' | 'unchanged';
export declare function addFlags(c: K8sObject, flags: ShellArg[][]): string[];

// Field paths
type ServiceRef = string | { component: { serviceName: string } };
export declare const POD_CONTAINERS_PATH: 'podTemplate.spec.containers';
export declare function servicePath(service: ServiceRef, suffix?: string): string;
export declare function annotationPath(service: ServiceRef, key: string): string;
export declare function mainContainerPath(service: ServiceRef, field?: string): string;
export declare function mainContainerArgsPath(service: ServiceRef): string;
