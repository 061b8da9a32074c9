import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ConfigSyntaxError,
  effectiveSettings,
  loadConfigFile,
  parseConfigText,
  parseMemory,
  splitConfigArgs,
} from '../../src/core/redis/configFile';
import {
  fileSettingsSource,
  mergeFindings,
  serverSettingsSource,
} from '../../src/core/redis/doctor';
import {
  type Finding,
  journalRules,
  settingsRules,
  stateRules,
} from '../../src/core/redis/doctorRules';
import { parseInfo } from '../../src/core/redis/info';
import { plannedFixes } from '../../src/core/redis/liveFixes';
import { redactSlowlogArgs } from '../../src/core/redis/monitor';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const SHIPPED = path.resolve(__dirname, '../../redis/redis-autodl-optimized.conf');

describe('redis.conf parser', () => {
  it('splits arguments as sdssplitargs does', () => {
    assert.deepEqual(splitConfigArgs('save ""'), ['save', '']);
    assert.deepEqual(splitConfigArgs(`requirepass "a b\\"c\\x41\\n"`), ['requirepass', 'a b"cA\n']);
    assert.deepEqual(splitConfigArgs(`logfile 'it\\'s here'`), ['logfile', "it's here"]);
    assert.deepEqual(splitConfigArgs('bind  127.0.0.1\t-::1  '), ['bind', '127.0.0.1', '-::1']);
    assert.deepEqual(splitConfigArgs('dir a"b c"d'), null, 'a closing quote must end the word');
    assert.equal(splitConfigArgs('logfile "unterminated'), null);
  });

  it('reads directives with their lines, case-insensitively, skipping comments', () => {
    const d = parseConfigText(
      '# comment\n\n  MaxMemory 1gb\nsave 900 1\r\nsave 60 10000\n',
      '/x.conf',
    );
    assert.deepEqual(
      d.map((x) => [x.name, x.args, x.line]),
      [
        ['maxmemory', ['1gb'], 3],
        ['save', ['900', '1'], 4],
        ['save', ['60', '10000'], 5],
      ],
    );
    assert.throws(
      () => parseConfigText('ok yes\nbad "quote\n', '/x.conf'),
      (e: ConfigSyntaxError) => e.line === 2 && e.file === '/x.conf',
    );
  });

  it('converts memory units like Redis (1gb = 1024^3, 1g = 10^9)', () => {
    assert.equal(parseMemory('1gb'), 1024 ** 3);
    assert.equal(parseMemory('1G'), 1e9);
    assert.equal(parseMemory('64mb'), 64 * 1024 ** 2);
    assert.equal(parseMemory('100'), 100);
    assert.equal(parseMemory('lots'), null);
  });

  it('applies the last directive, accumulates save lines, and save "" clears them', () => {
    const s = effectiveSettings(
      parseConfigText(
        'maxmemory 2gb\nmaxmemory 1mb\nsave 900 1\nsave 300 10 60 10000\nappendonly no\nappendonly yes\n',
        '/c',
      ),
    );
    assert.equal(s.get('maxmemory')!.value, String(1024 ** 2));
    assert.equal(s.get('maxmemory')!.where, '/c:2');
    assert.equal(s.get('save')!.value, '900 1 300 10 60 10000');
    assert.equal(s.get('appendonly')!.value, 'yes');
    assert.equal(
      effectiveSettings(parseConfigText('save 900 1\nsave ""\n', '/c')).get('save')!.value,
      '',
    );
    assert.equal(
      effectiveSettings(parseConfigText('save ""\nsave 60 1\n', '/c')).get('save')!.value,
      '60 1',
    );
  });

  it('follows include relative to the including file, in place', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-conf-'));
    try {
      fs.mkdirSync(path.join(dir, 'conf.d'));
      fs.writeFileSync(
        path.join(dir, 'main.conf'),
        'maxmemory-policy allkeys-lru\ninclude conf.d/local.conf\nport 7000\n',
      );
      fs.writeFileSync(
        path.join(dir, 'conf.d', 'local.conf'),
        'maxmemory-policy noeviction\nport 6000\n',
      );
      const s = effectiveSettings(loadConfigFile(path.join(dir, 'main.conf')));
      assert.equal(s.get('maxmemory-policy')!.value, 'noeviction');
      assert.equal(s.get('maxmemory-policy')!.where, `${path.join(dir, 'conf.d', 'local.conf')}:1`);
      assert.equal(s.get('port')!.value, '7000');
      fs.writeFileSync(path.join(dir, 'loop.conf'), 'include loop.conf\n');
      assert.throws(() => loadConfigFile(path.join(dir, 'loop.conf')), /includes itself/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('INFO parser', () => {
  const text =
    '# Server\r\nredis_version:7.0.15\r\nconfig_file:\r\n\r\n# Stats\r\nevicted_keys:12\r\nrejected_connections:0\r\n\r\n# Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n';
  it('reads sections, numbers and the keyspace', () => {
    const info = parseInfo(text);
    assert.equal(info.get('redis_version'), '7.0.15');
    assert.equal(info.get('config_file'), '');
    assert.equal(info.num('evicted_keys'), 12);
    assert.equal(info.num('config_file'), undefined);
    assert.equal(info.sections.get('stats')!.get('rejected_connections'), '0');
    assert.deepEqual(info.keyspace(), [
      { db: 0, keys: 5, expires: 1 },
      { db: 3, keys: 2, expires: 0 },
    ]);
  });
});

const ids = (fs: Finding[]) => fs.map((f) => `${f.id}:${f.severity}`).sort();

describe('doctor rules', () => {
  it('flag the circulated config: eviction, no persistence, public bind without password', () => {
    const found = settingsRules(fileSettingsSource(path.join(FIXTURES, 'redis-common-bad.conf')), {
      somaxconn: 128,
      openFilesLimit: 1024,
    });
    assert.deepEqual(ids(found), [
      'eviction-policy:error',
      'maxclients-ulimit:warning',
      'no-persistence:error',
      'public-bind:error',
      'tcp-backlog:warning',
    ]);
    const evict = found.find((f) => f.id === 'eviction-policy')!;
    assert.match(evict.evidence, /allkeys-lru.*redis-common-bad\.conf:16/);
    assert.match(found.find((f) => f.id === 'tcp-backlog')!.evidence, /511.*somaxconn is 128/);
    assert.match(found.find((f) => f.id === 'maxclients-ulimit')!.fix, /maxclients 992/);
  });

  it('find nothing wrong with the shipped config within the kernel limits', () => {
    assert.deepEqual(
      settingsRules(fileSettingsSource(SHIPPED), { somaxconn: 4096, openFilesLimit: 65536 }),
      [],
    );
    assert.deepEqual(
      ids(settingsRules(fileSettingsSource(SHIPPED), { somaxconn: 128, openFilesLimit: 1024 })),
      ['maxclients-ulimit:warning', 'tcp-backlog:warning'],
    );
  });

  it('apply Redis defaults for what a file leaves out (no bind: every interface)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-conf-'));
    try {
      fs.writeFileSync(path.join(dir, 'r.conf'), 'port 6379\n');
      const found = settingsRules(fileSettingsSource(path.join(dir, 'r.conf')));
      assert.deepEqual(ids(found), [
        'no-maxmemory:info',
        'public-bind:warning',
        'rdb-only:warning',
      ]);
      assert.match(
        found.find((f) => f.id === 'public-bind')!.evidence,
        /"\* -::\*".*not set, Redis default/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('grade eviction and persistence, and offer only safe live fixes', () => {
    const server = (o: Record<string, string>) =>
      serverSettingsSource(
        new Map(
          Object.entries({
            'maxmemory-policy': 'noeviction',
            appendonly: 'yes',
            appendfsync: 'everysec',
            save: '',
            bind: '127.0.0.1',
            'protected-mode': 'yes',
            requirepass: '',
            'tcp-backlog': '511',
            maxclients: '10000',
            maxmemory: '100',
            ...o,
          }),
        ),
      );
    assert.deepEqual(settingsRules(server({})), []);
    assert.deepEqual(ids(settingsRules(server({ 'maxmemory-policy': 'volatile-lru' }))), [
      'eviction-policy:warning',
    ]);
    const noFsync = settingsRules(server({ appendonly: 'no', appendfsync: 'no' }));
    assert.deepEqual(ids(noFsync), ['no-persistence:error']);
    assert.deepEqual(
      plannedFixes(noFsync).map((f) => `${f.parameter}=${f.value}`),
      ['appendfsync=everysec', 'appendonly=yes'],
    );
    assert.deepEqual(ids(settingsRules(server({ appendonly: 'no', save: '3600 1' }))), [
      'rdb-only:warning',
    ]);
    assert.deepEqual(ids(settingsRules(server({ appendfsync: 'no' }))), ['aof-fsync:warning']);
    // A password (shown only as a placeholder) makes a public bind acceptable.
    assert.deepEqual(
      settingsRules(server({ bind: '0.0.0.0', 'protected-mode': 'no', requirepass: '(set)' })),
      [],
    );
    assert.deepEqual(
      ids(settingsRules(server({ bind: '10.0.0.5 127.0.0.1', 'protected-mode': 'yes' }))),
      ['public-bind:warning'],
    );
    // Unsafe values never become live fixes, even if a finding carried one.
    assert.deepEqual(
      plannedFixes([
        {
          id: 'x',
          severity: 'error',
          title: '',
          evidence: '',
          fix: '',
          liveFix: [
            { parameter: 'bind', value: '0.0.0.0' },
            { parameter: 'appendonly', value: 'no' },
          ],
        },
      ]),
      [],
    );
  });

  it('read counters and statuses from INFO', () => {
    const info = parseInfo(
      'evicted_keys:3\nrejected_connections:2\nconnected_clients:90\nused_memory:990\nrdb_last_bgsave_status:err\naof_last_bgrewrite_status:ok\naof_last_write_status:err\n',
    );
    const found = stateRules(
      info,
      new Map([
        ['maxclients', '100'],
        ['maxmemory', '1000'],
        ['maxmemory-policy', 'allkeys-lru'],
      ]),
    );
    assert.deepEqual(ids(found), [
      'aof-write-failed:error',
      'bgsave-failed:error',
      'clients-near-limit:warning',
      'evicted-keys:error',
      'memory-near-limit:error',
      'rejected-connections:warning',
    ]);
    assert.deepEqual(
      stateRules(
        parseInfo('evicted_keys:0\nconnected_clients:1\nused_memory:10\n'),
        new Map([
          ['maxclients', '100'],
          ['maxmemory', '0'],
        ]),
      ),
      [],
    );
  });

  it('report journal gaps with their ranges, and bounded scans', () => {
    const found = journalRules([
      {
        prefix: 'p',
        entries: 10,
        checked: 10,
        missing: 3,
        ranges: [
          [0, 1],
          [7, 7],
        ],
      },
      { prefix: 'q', entries: 100, checked: 50, missing: 0, ranges: [] },
    ]);
    assert.deepEqual(ids(found), ['journal-gaps:error', 'journal-scan-bounded:info']);
    assert.match(found[0].evidence, /p:log:0–1, p:log:7$/);
  });

  it('merge the same finding from the server and its config file', () => {
    const a: Finding = {
      id: 'eviction-policy',
      severity: 'warning',
      title: 'a',
      evidence: 'server',
      fix: 'f',
      liveFix: [{ parameter: 'maxmemory-policy', value: 'noeviction' }],
    };
    const b: Finding = { ...a, severity: 'error', title: 'b', evidence: 'file' };
    const j1: Finding = {
      id: 'journal-gaps',
      severity: 'error',
      title: 'p',
      evidence: '',
      fix: '',
    };
    const merged = mergeFindings([
      a,
      { id: 'no-maxmemory', severity: 'info', title: '', evidence: '', fix: '' },
      b,
      j1,
      { ...j1, title: 'q' },
    ]);
    assert.deepEqual(
      merged.map((f) => f.id),
      ['eviction-policy', 'journal-gaps', 'journal-gaps', 'no-maxmemory'],
    );
    assert.equal(merged[0].severity, 'error');
    assert.equal(merged[0].evidence, 'server; file');
    assert.equal(merged[0].liveFix!.length, 1);
  });
});

describe('monitor slow log', () => {
  it('never shows secrets, and shortens long arguments', () => {
    assert.deepEqual(redactSlowlogArgs(['AUTH', 'user', 'pw']), ['AUTH', '***', '***']);
    assert.deepEqual(redactSlowlogArgs(['config', 'set', 'requirepass', 'pw']), [
      'config',
      'set',
      'requirepass',
      '***',
    ]);
    assert.deepEqual(redactSlowlogArgs(['CONFIG', 'SET', 'maxmemory', '1gb']), [
      'CONFIG',
      'SET',
      'maxmemory',
      '1gb',
    ]);
    assert.deepEqual(
      redactSlowlogArgs(['MIGRATE', 'h', '1', '', '0', '5', 'AUTH', 'pw', 'KEYS', 'k']).slice(6, 8),
      ['AUTH', '***'],
    );
    const long = redactSlowlogArgs([
      'EVAL',
      'x'.repeat(200),
      ...Array.from({ length: 10 }, (_, i) => String(i)),
    ]);
    assert.equal(long[1].length, 80);
    assert.equal(long[long.length - 1], '... (4 more)');
  });
});
