// Types of dynamo-plugin-sdk/harness.js (Node only).
import type { Diagnostic, HarnessPlugin, PluginErrorJson, RenderInput, RenderInputLike, RenderOutput, Vector } from './index.js';

export interface VectorResult {
  name: string;
  file?: string;
  pass: boolean;
  diffs: string[];
  actual: { output: RenderOutput } | { error: PluginErrorJson } | { diagnostics: Diagnostic[] } | { exception: string };
}

export declare function loadFixture(path: string): RenderInput;
export declare function runRender(plugin: HarnessPlugin, input: string | RenderInputLike): { output: RenderOutput } | { error: PluginErrorJson };
export declare function render(plugin: HarnessPlugin, input: string | RenderInputLike): RenderOutput;
export declare function runValidate(plugin: HarnessPlugin, input: string | RenderInputLike): Diagnostic[];
export declare function diffJson(expected: unknown, actual: unknown, path?: string): string[];
export declare function loadVector(path: string): Vector;
export declare function loadVectors(dir: string): Vector[];
export declare function checkVector(plugin: HarnessPlugin, vector: Vector | string): VectorResult;
export declare function assertVector(plugin: HarnessPlugin, vector: Vector | string): void;
export declare function checkVectors(plugin: HarnessPlugin, dir: string): VectorResult[];
export declare function loadComponent(wasmPath: string, options?: { jco?: string; cacheDir?: string }): Promise<HarnessPlugin>;
export declare function main(args: string[]): Promise<number>;
