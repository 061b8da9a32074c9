import { connectOnce } from '../../redis/connect';
import { parseRedisUrl } from '../../redis/url';

import { type Scenario, errorMessage, verdict } from '../context';
import { PROMISES, check } from '../scenarios';
import { latencySummary, percentile, round } from '../stats';

const EVICTING = /^(allkeys|volatile)-/;

/** Connection success rate over N fresh connections, PING latency, and what the server is. */
export const basicConnection: Scenario = async (ctx) => {
  const { url, password, settings, where, client } = ctx.user;
  const endpoint = parseRedisUrl(url);
  const n = ctx.options.connectAttempts;
  const connectMs: number[] = [];
  const failures = new Map<string, number>();
  let started = 0;
  // Ten at a time: quick on a LAN, and still a burst like optimizers starting together.
  const attempt = async (): Promise<void> => {
    while (started < n) {
      ctx.signal.throwIfAborted();
      started++;
      const t0 = performance.now();
      try {
        const c = await connectOnce(url, { password, settings });
        connectMs.push(performance.now() - t0);
        c.disconnect();
      } catch (e) {
        const m = errorMessage(e);
        failures.set(m, (failures.get(m) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(10, n) }, attempt));
  const ok = connectMs.length;
  const rate = ok / n;
  ctx.log(
    `${ok}/${n} connections succeeded (connect + AUTH/SELECT + PING p50 ${round(percentile(connectMs, 50), 1)} ms, p99 ${round(percentile(connectMs, 99), 1)} ms)`,
  );

  const pingMs: number[] = [];
  for (let i = 0; i < ctx.options.pings; i++) {
    if (i % 50 === 0) ctx.signal.throwIfAborted();
    const t0 = performance.now();
    await client.ping();
    pingMs.push(performance.now() - t0);
  }
  const pings = latencySummary(pingMs, 'ping');
  ctx.log(
    `${ctx.options.pings} PINGs: p50 ${pings.ping_p50_ms} ms, p95 ${pings.ping_p95_ms} ms, p99 ${pings.ping_p99_ms} ms, max ${pings.ping_max_ms} ms`,
  );

  let version: string | undefined;
  let mode: string | undefined;
  try {
    const info = await client.info('server');
    version = /redis_version:(\S+)/.exec(info)?.[1];
    mode = /redis_mode:(\S+)/.exec(info)?.[1];
  } catch {
    // INFO not allowed for this user
  }
  let policy: string | undefined;
  try {
    policy = ((await client.config('GET', 'maxmemory-policy')) as string[])[1];
  } catch {
    // CONFIG not allowed
  }
  ctx.log(
    `${where}: Redis ${version ?? '(version unknown)'}${mode ? ` ${mode}` : ''}, TLS ${endpoint.tls ? 'on' : 'off'}, AUTH ${password || endpoint.password ? 'on' : 'off'}, db ${endpoint.db}, maxmemory-policy ${policy ?? 'unknown'}`,
  );

  const checks = [
    check(
      'connection_success_rate',
      'connection success rate',
      `> ${PROMISES.connectionSuccessRate * 100}%`,
      `${round(rate * 100, 1)}% (${ok}/${n})`,
      rate > PROMISES.connectionSuccessRate,
    ),
  ];
  const problems: string[] = [];
  if (failures.size > 0) {
    const [msg, count] = [...failures].sort((a, b) => b[1] - a[1])[0];
    problems.push(`${n - ok} of ${n} connection attempts failed, e.g. ${count}× ${msg}`);
  }
  const warning =
    policy && EVICTING.test(policy)
      ? `; warning: maxmemory-policy ${policy} lets Redis evict journal entries under memory pressure (use noeviction)`
      : '';
  const v = verdict(
    checks,
    problems,
    `${round(rate * 100, 1)}% of ${n} connections succeeded; PING p50 ${pings.ping_p50_ms} ms, p99 ${pings.ping_p99_ms} ms${warning}`,
  );
  return {
    ...v,
    message: v.status === 'failed' ? v.message + warning : v.message,
    server: 'user',
    checks,
    metrics: {
      connect_attempts: n,
      connect_successes: ok,
      connection_success_rate: round(rate, 4),
      connect_p50_ms: round(percentile(connectMs, 50), 3),
      connect_p99_ms: round(percentile(connectMs, 99), 3),
      ...pings,
      redis_version: version ?? null,
      tls: endpoint.tls,
      auth: !!(password || endpoint.password),
      db: endpoint.db,
      maxmemory_policy: policy ?? null,
    },
  };
};
