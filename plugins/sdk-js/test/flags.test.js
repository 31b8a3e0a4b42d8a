import assert from 'node:assert/strict';
import { test } from 'node:test';

import { addFlags, appendArgs, hasFlag, isShell, shellExpr, shellQuote, shellScriptIndex, shellWord } from '../index.js';

test('shellQuote quotes only words outside [A-Za-z0-9_./:=@%+,-]', () => {
  for (const safe of ['--port', '8080', 'Qwen/Qwen2.5-7B', 'a=b', 'x@y:z%1+2,3', '_./-']) {
    assert.equal(shellQuote(safe), safe);
  }
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote("it's"), `'it'"'"'s'`);
  assert.equal(shellQuote('$(rm -rf /)'), "'$(rm -rf /)'");
  assert.equal(shellQuote('a*'), "'a*'");
  assert.equal(shellQuote('~'), "'~'");
  assert.equal(shellQuote('é'), "'é'");
});

test('shellExpr expands in a script but stays one word', () => {
  assert.equal(shellWord(shellExpr('$((LWS_WORKER_INDEX + 1))')), '"$((LWS_WORKER_INDEX + 1))"');
  assert.equal(shellWord(shellExpr('a"b`c\\d')), '"a\\"b\\`c\\\\d"');
  assert.equal(shellWord('a b'), "'a b'");
});

test('hasFlag finds the word or <flag>=...', () => {
  const argv = ['tgi', '--port=9000', '--num-shard', '2', '--model-idx', 'x'];
  assert.ok(hasFlag(argv, '--port'));
  assert.ok(hasFlag(argv, '--num-shard'));
  assert.ok(!hasFlag(argv, '--model-id'));
  assert.ok(!hasFlag(argv, '--num'));
});

test('shells are sh or bash by last path segment, followed by exactly -c', () => {
  assert.ok(isShell('sh') && isShell('/bin/bash') && isShell('/usr/local/bin/sh'));
  assert.ok(!isShell('zsh') && !isShell('bash5') && !isShell('/bin/sh/x'));
  assert.equal(shellScriptIndex(['sh', '-c', 'echo']), 2);
  assert.equal(shellScriptIndex(['/bin/bash', '-c', 'echo', 'name']), 3);
  assert.equal(shellScriptIndex(['bash', '-lc', 'echo']), -1);
  assert.equal(shellScriptIndex(['sh', 'script.sh']), -1);
  assert.equal(shellScriptIndex(['sh', '-c']), -1);
  assert.equal(shellScriptIndex(['python3', '-c', 'print()']), -1);
});

test('appendArgs appends words to args, creating them', () => {
  const c = { name: 'main', command: ['tgi'] };
  assert.equal(appendArgs(c, ['--x', 'a b', shellExpr('$(HOST)')]), 'args');
  assert.deepEqual(c.args, ['--x', 'a b', '$(HOST)']);
  assert.equal(appendArgs(c, []), 'unchanged');
  const entrypoint = {};
  appendArgs(entrypoint, ['--y']);
  assert.deepEqual(entrypoint, { args: ['--y'] });
});

test('appendArgs appends quoted words to the script: last of args, else of command', () => {
  const inArgs = { command: ['/bin/sh', '-c'], args: ['exec tgi'] };
  assert.equal(appendArgs(inArgs, ['--port', '8080', "it's", shellExpr('$(H)')]), 'script');
  assert.deepEqual(inArgs, { command: ['/bin/sh', '-c'], args: [`exec tgi --port 8080 'it'"'"'s' "$(H)"`] });

  const inCommand = { command: ['bash', '-c', 'exec tgi'] };
  appendArgs(inCommand, ['--port', '8080']);
  assert.deepEqual(inCommand, { command: ['bash', '-c', 'exec tgi --port 8080'] });

  const emptyArgs = { command: ['sh', '-c', 'exec tgi'], args: [] };
  appendArgs(emptyArgs, ['--a']);
  assert.deepEqual(emptyArgs, { command: ['sh', '-c', 'exec tgi --a'], args: [] });

  const scriptFromArgs = { args: ['sh', '-c', 'exec tgi'] };
  appendArgs(scriptFromArgs, ['--a']);
  assert.deepEqual(scriptFromArgs, { args: ['sh', '-c', 'exec tgi --a'] });
});

test('addFlags skips flags already present and keeps order', () => {
  const c = { command: ['tgi'], args: ['--port=1', '--x'] };
  assert.deepEqual(addFlags(c, [['--port', '8080'], ['--num-shard', '2'], ['--x'], ['--quantize', 'awq']]), ['--num-shard', '--quantize']);
  assert.deepEqual(c.args, ['--port=1', '--x', '--num-shard', '2', '--quantize', 'awq']);
  const none = { command: ['tgi'] };
  assert.deepEqual(addFlags(none, []), []);
  assert.deepEqual(none, { command: ['tgi'] });
});
