import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  effectiveSettings,
  parseConfigText,
  splitConfigArgs,
} from '../../src/core/redis/configFile';
import { formatDirective, quoteConfigArg, setDirectives } from '../../src/core/redis/configRender';
import { reachableHost, renderDeployConfig } from '../../src/core/redis/deployConfig';
import { parseFatalConfigError } from '../../src/core/redis/redisProcess';

const SHIPPED = path.resolve(__dirname, '../../redis/redis-autodl-optimized.conf');

describe('deploy: config rendering', () => {
  it('quotes arguments so that Redis reads them back unchanged', () => {
    for (const v of [
      '/root/autodl-tmp/redis',
      'with space',
      'q"uote\\back',
      '',
      'tab\tnew\nline\x01',
      'ünï 🎉',
    ]) {
      assert.deepEqual(
        splitConfigArgs(formatDirective('requirepass', [v])),
        ['requirepass', v],
        JSON.stringify(v),
      );
    }
    assert.equal(quoteConfigArg('127.0.0.1'), '127.0.0.1');
    assert.equal(quoteConfigArg(''), '""');
  });

  it('replaces directives on their own lines and appends missing ones', () => {
    const text = '# c\nport 6379\nsave 900 1\ndir /old\n';
    const out = setDirectives(text, [
      ['port', ['7000']],
      ['dir', ['/new dir']],
      ['requirepass', ['pw']],
    ]);
    assert.deepEqual(out.split('\n').slice(0, 4), [
      '# c',
      'port 7000',
      'save 900 1',
      'dir "/new dir"',
    ]);
    assert.match(out, /# Set by optuna-storage deploy\nrequirepass pw\n$/);
    assert.equal(
      setDirectives(out, [
        ['port', ['7000']],
        ['requirepass', ['pw']],
      ]),
      out,
      'idempotent',
    );
  });

  it('fits the shipped config to the machine and the paths, keeping every line number', () => {
    const source = fs.readFileSync(SHIPPED, 'utf8');
    const opts = {
      source: SHIPPED,
      target: '/t.conf',
      dataDir: '/data',
      logFile: '/l/r.log',
      pidFile: '/p/r.pid',
      port: 6400,
    };
    const { text, adjustments } = renderDeployConfig(source, opts, {
      somaxconn: 128,
      openFilesLimit: 1024,
    });
    const s = effectiveSettings(parseConfigText(text, '/t.conf'));
    assert.equal(s.get('tcp-backlog')!.value, '128');
    assert.equal(s.get('maxclients')!.value, '992');
    assert.equal(s.get('dir')!.value, '/data');
    assert.equal(s.get('port')!.value, '6400');
    assert.equal(s.get('maxmemory-policy')!.value, 'noeviction');
    assert.equal(adjustments.length, 2);
    assert.equal(
      text.split('\n').length,
      source.split('\n').length,
      "same lines: Redis errors point at the user's line",
    );
    assert.equal(
      renderDeployConfig(source, opts, { somaxconn: 4096, openFilesLimit: 65536 }).adjustments
        .length,
      0,
    );
  });

  it('reads the line and directive of a FATAL CONFIG FILE ERROR', () => {
    const out =
      "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'maxmemory-policy allkeys-lruu'\nargument(s) must be one of the following: noeviction\n";
    assert.deepEqual(parseFatalConfigError(out), {
      line: 3,
      directive: 'maxmemory-policy allkeys-lruu',
      reason: 'argument(s) must be one of the following: noeviction',
    });
    assert.equal(parseFatalConfigError("Fatal error, can't open config file '/x'"), null);
  });

  it('reaches the server on loopback when it listens there', () => {
    assert.equal(reachableHost('127.0.0.1 -::1'), '127.0.0.1');
    assert.equal(reachableHost(undefined), '127.0.0.1');
    assert.equal(reachableHost('-::1'), '::1');
    assert.equal(reachableHost('10.0.0.5'), '10.0.0.5');
  });
});
