// Defining a plugin: plain functions on the JSON form, wrapped into the three component exports.

import {
  PluginError,
  diagnosticToJson,
  formatWarning,
  normalizeInput,
  normalizeMetadata,
  normalizeOutput,
  toPluginError,
  toWitMetadata,
  toWitOutput,
} from './contract.js';

/**
 * Defines a plugin from three functions written on the JSON form:
 *
 * - `metadata()` → the metadata (`{name, version, kind, frameworks, ...}`; omitted lists default
 *   to `[]`, omitted options to none);
 * - `validate(input)` → a list of diagnostics (see `error()` / `warning()`); optional; it must
 *   not modify `input` (render passes it the same object);
 * - `render(input, context)` → `{podTemplate, extraObjects?, warnings?}`, or `throw` a
 *   {@link PluginError}. `input.podTemplate` is a fresh object the function may edit and return.
 *
 * The returned plugin's `render` first runs `validate` (unless `validateBeforeRender: false`):
 * the first error diagnostic is thrown as `invalid-input`, and every warning diagnostic becomes a
 * render warning `<fieldPath>: <message>`, before the plugin's own warnings. `context.diagnostics`
 * holds what `validate` returned.
 *
 * The component entry module exports its `wit` functions:
 *
 * ```js
 * export const plugin = definePlugin({ metadata() {...}, validate(input) {...}, render(input) {...} });
 * export const { metadata, render, validate } = plugin.wit;
 * ```
 *
 * @param {object} spec
 * @param {() => object} spec.metadata
 * @param {(input: object, context: {diagnostics: object[]}) => object} spec.render
 * @param {(input: object) => object[]} [spec.validate]
 * @param {boolean} [spec.validateBeforeRender] default true.
 * @returns {import('./index.js').Plugin}
 */
export function definePlugin(spec) {
  if (typeof spec?.metadata !== 'function' || typeof spec?.render !== 'function') {
    throw new TypeError('definePlugin needs metadata() and render(input) functions');
  }
  const validateFn = spec.validate ?? (() => []);
  const validateFirst = spec.validateBeforeRender ?? true;

  const metadata = () => normalizeMetadata(spec.metadata());

  // `n` is a normalized input; validate functions must not modify it.
  const validateNormalized = (n) => {
    const diagnostics = validateFn(n);
    if (!Array.isArray(diagnostics)) {
      throw new TypeError(`validate must return a list of diagnostics; got ${JSON.stringify(diagnostics)}`);
    }
    return diagnostics.map(diagnosticToJson);
  };

  const validate = (input) => validateNormalized(normalizeInput(input));

  const render = (input) => {
    const n = normalizeInput(input);
    let diagnostics = [];
    const warnings = [];
    if (validateFirst) {
      diagnostics = validateNormalized(n);
      const first = diagnostics.find((d) => d.severity === 'error');
      if (first) throw PluginError.invalidInput(first.fieldPath, first.message);
      for (const d of diagnostics) warnings.push(formatWarning(d));
    }
    const out = normalizeOutput(spec.render(n, { diagnostics }));
    return { ...out, warnings: [...warnings, ...out.warnings] };
  };

  const wit = {
    /** The `metadata` export: the metadata as the WIT record. */
    metadata() {
      return toWitMetadata(metadata());
    },
    /** The `render` export: WIT input in, WIT output out; failures thrown as `plugin-error`. */
    render(witInput) {
      try {
        return toWitOutput(render(witInput));
      } catch (e) {
        // componentize-js returns the `err` case for a thrown value with a `payload`; anything
        // else would trap, losing the message (a plugin has no stderr), so it becomes `internal`.
        throw toPluginError(e);
      }
    },
    /**
     * The `validate` export: WIT input in, diagnostics out. A {@link PluginError} thrown by
     * `validate` (or an unparsable pod template) becomes one error diagnostic; any other
     * exception traps, which the host reports as a plugin failure.
     */
    validate(witInput) {
      try {
        return validate(witInput);
      } catch (e) {
        if (!(e instanceof PluginError)) throw e;
        const d = e.payload.tag === 'invalid-input' ? e.payload.val : { fieldPath: '', message: e.message };
        return [{ fieldPath: d.fieldPath, message: d.message, severity: 'error' }];
      }
    },
  };

  return { metadata, validate, render, wit, spec };
}
