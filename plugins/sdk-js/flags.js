// Flags on any container command line: detect the flags already present, and append new words
// either to `args` or, when the container runs `sh -c <script>` / `bash -c <script>`, to the end
// of the script with POSIX quoting. Nothing here assumes `python -m`.

import { containerArgv } from './pod.js';

const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/;

/**
 * Quotes one word for a POSIX shell: returned unchanged when it is non-empty and made only of
 * `[A-Za-z0-9_./:=@%+,-]`, else wrapped in single quotes with each `'` written as `'"'"'`.
 * @param {string} word
 * @returns {string}
 */
export function shellQuote(word) {
  const s = String(word);
  if (SAFE_WORD.test(s)) return s;
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Marks text that must still expand in a shell (`$VAR`, `$((N + 1))`): passed unchanged in
 * `args`, written inside double quotes (with `"`, `\` and `` ` `` escaped) in a shell script.
 * @param {string} text
 * @returns {{shellExpr: string}}
 */
export function shellExpr(text) {
  return { shellExpr: String(text) };
}

/**
 * One argument as a word of a shell script: a string is quoted with {@link shellQuote}; a
 * {@link shellExpr} is double-quoted so it expands but stays one word.
 * @param {string | {shellExpr: string}} arg
 * @returns {string}
 */
export function shellWord(arg) {
  if (arg !== null && typeof arg === 'object' && 'shellExpr' in arg) {
    return `"${arg.shellExpr.replace(/["\\`]/g, (ch) => `\\${ch}`)}"`;
  }
  return shellQuote(arg);
}

function argText(arg) {
  return arg !== null && typeof arg === 'object' && 'shellExpr' in arg ? arg.shellExpr : String(arg);
}

/**
 * True when `flag` is in `argv` as the word itself or as a word starting with `<flag>=`.
 * @param {string[]} argv a command line (e.g. {@link containerArgv} of a container).
 * @param {string} flag e.g. `--port`.
 * @returns {boolean}
 */
export function hasFlag(argv, flag) {
  return argv.some((w) => w === flag || w.startsWith(`${flag}=`));
}

/**
 * True when `word` runs a shell: its last path segment is `sh` or `bash` (`sh`, `/bin/bash`, ...).
 * @param {string} word
 * @returns {boolean}
 */
export function isShell(word) {
  const name = String(word).split('/').pop();
  return name === 'sh' || name === 'bash';
}

/**
 * Index in `argv` of the script of a `<shell> -c <script>` command line, or -1: the first word
 * is a shell ({@link isShell}), the second is exactly `-c`, and the script is the last word.
 * @param {string[]} argv
 * @returns {number}
 */
export function shellScriptIndex(argv) {
  return argv.length >= 3 && isShell(argv[0]) && argv[1] === '-c' ? argv.length - 1 : -1;
}

/**
 * Appends words to a container's command line. When the argv is a `<shell> -c` command (see
 * {@link shellScriptIndex}) each word is appended to the script, preceded by one space and
 * quoted with {@link shellWord}; the script is the last word of `args` when `args` is non-empty,
 * else of `command`. Otherwise the words are appended to `args` as they are (creating `args`).
 *
 * @param {object} c a container.
 * @param {Array<string | {shellExpr: string}>} words
 * @returns {'script' | 'args' | 'unchanged'} where the words went.
 */
export function appendArgs(c, words) {
  if (words.length === 0) return 'unchanged';
  if (shellScriptIndex(containerArgv(c)) >= 0) {
    const list = (c.args ?? []).length > 0 ? c.args : c.command;
    list[list.length - 1] += words.map((w) => ` ${shellWord(w)}`).join('');
    return 'script';
  }
  c.args ??= [];
  c.args.push(...words.map(argText));
  return 'args';
}

/**
 * Adds flags to a container's command line, in order, each only when its flag is not already in
 * the argv ({@link hasFlag}), through {@link appendArgs}.
 *
 * @example addFlags(main, [['--port', '8080'], ['--trust-remote-code']])
 * @param {object} c a container.
 * @param {Array<Array<string | {shellExpr: string}>>} flags each `[flag, ...values]`.
 * @returns {string[]} the flags that were added.
 */
export function addFlags(c, flags) {
  const argv = containerArgv(c);
  const words = [];
  const added = [];
  for (const [flag, ...values] of flags) {
    if (hasFlag(argv, flag)) continue;
    words.push(flag, ...values);
    added.push(flag);
  }
  appendArgs(c, words);
  return added;
}
