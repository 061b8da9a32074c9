import * as assert from 'node:assert/strict';
import { redactConfigSecrets } from '../../src/core/redis/serverConfig';

describe('config secrets in what redis-server says', () => {
  it('hides secret settings and ACL passwords in quoted and plain config lines, keeps the rest', () => {
    const said = [
      '*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***',
      'Reading the configuration file, at line 142',
      `>>> 'requirepass "S3c/r@t#Pw:9" extra'`,
      'wrong number of arguments',
      `>>> 'MasterAuth pw/1'`,
      `>>> 'user alice on >pw/2 <old #${'ab'.repeat(32)} !${'cd'.repeat(32)} ~* +@all'`,
      'tls-key-file-pass pw/3',
      'maxmemory-policy allkeys-lruu',
    ].join('\n');
    assert.equal(
      redactConfigSecrets(said),
      [
        '*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***',
        'Reading the configuration file, at line 142',
        `>>> 'requirepass ***'`,
        'wrong number of arguments',
        `>>> 'MasterAuth ***'`,
        `>>> 'user alice on *** *** *** *** ~* +@all'`,
        'tls-key-file-pass ***',
        'maxmemory-policy allkeys-lruu',
      ].join('\n'),
    );
  });
});
