import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { describeJournals } from '../../core/redis/journalCheck';
import { ConfigValidationError } from '../../core/redis/redisProcess';
import { AlreadyRunningError, type StartResult, startDeployed } from '../../core/redis/start';
import { describeEndpoint, parseRedisUrl } from '../../core/redis/url';
import { Cancelled, withCancellableProgress } from '../progress';
import type { ReportDocuments } from '../reportDocuments';
import type { Services } from '../services';
import { SECTION, deployTarget, settingsTarget } from '../settings';
import { requireTrust } from '../trust';

const DEPLOY = 'Deploy Redis Configuration…';

/** Nothing deployed at the target: say so and offer Deploy; resolves with Deploy's outcome. */
export async function offerDeploy(target: string, what: string): Promise<boolean> {
  const pick = await vscode.window.showWarningMessage(
    `No deployed Redis configuration at ${target}: there is nothing to ${what}.`,
    {
      detail:
        'Deploy installs the Optuna Redis configuration (data on the persistent disk, no eviction, append-only file) and starts it. Afterwards Start Redis brings it back after a container restart. (Or point optunaStorage.deploy.target at the config you deployed.)',
    },
    DEPLOY,
  );
  if (pick !== DEPLOY) return false;
  return (await vscode.commands.executeCommand('optunaStorage.deployRedis')) === true;
}

/**
 * Offers to read the server just started when the connection setting names another one
 * (deployed on another port, or no Redis configured yet).
 */
function offerConnection(s: Services, r: StartResult, text: string): void {
  const url = s.store.settings.redisUrl;
  let same = false;
  try {
    same = !!url && describeEndpoint(parseRedisUrl(url)) === describeEndpoint(parseRedisUrl(r.url));
  } catch {
    // an invalid setting: offer the started server
  }
  if (same) {
    void vscode.window.showInformationMessage(text);
    return;
  }
  const use = 'Read Studies from It';
  void vscode.window
    .showInformationMessage(
      `${text} The extension reads ${url || 'no Redis'}: read ${r.url} instead?`,
      use,
    )
    .then((pick) =>
      pick === use
        ? vscode.workspace.getConfiguration(SECTION).update('redis.url', r.url, settingsTarget())
        : undefined,
    );
}

/**
 * "Start Redis": starts the configuration Deploy installed (after a container restart nothing
 * else does), never a second server on a port that answers; offers Deploy when nothing is
 * deployed. Resolves true when a server was started.
 */
export async function startRedis(s: Services, docs: ReportDocuments): Promise<boolean> {
  if (!requireTrust('Starting Redis')) return false;
  const target = deployTarget();
  if (!fs.existsSync(target)) return offerDeploy(target, 'start');
  const url = s.store.settings.redisUrl;
  const password = url ? await s.passwords.get(url).then(undefined, () => undefined) : undefined;
  let r: StartResult;
  try {
    r = await withCancellableProgress(`Starting Redis from ${target}`, (report, signal) =>
      startDeployed({
        target,
        password,
        signal,
        onStep: (m) => {
          s.log.info(`start: ${m}`);
          report(m);
        },
      }),
    );
  } catch (e) {
    const msg = (e as Error).message;
    s.log.warn(`start: ${msg}`);
    if (e instanceof AlreadyRunningError) {
      void (e.same ? vscode.window.showInformationMessage : vscode.window.showErrorMessage)(msg);
      if (e.same) s.store.reconnect();
    } else if (e instanceof Cancelled) {
      void vscode.window.showInformationMessage(
        'Start cancelled. If redis-server was already launched, it keeps loading its data.',
      );
    } else if (e instanceof ConfigValidationError) {
      void vscode.window.showErrorMessage(`Redis was not started: it refuses ${target}. ${msg}`);
    } else {
      const [first, ...rest] = msg.split('\n');
      const details = 'Show Details';
      void vscode.window
        .showErrorMessage(`Redis did not start: ${first}`, ...(rest.length ? [details] : []))
        .then((pick) =>
          pick
            ? docs.show(
                'Redis Start.md',
                `# Redis did not start\n\n${first}\n\n\`\`\`\n${rest.join('\n')}\n\`\`\`\n`,
              )
            : undefined,
        );
    }
    return false;
  }
  s.log.info(`start: Redis ${r.version} up on ${r.url} (pid ${r.pid ?? '?'})`);
  const journals = describeJournals(r.journals);
  await s.store.start();
  offerConnection(
    s,
    r,
    `Redis ${r.version} is up on ${r.url} (pid ${r.pid ?? '?'}): ${journals.join('; ')}.`,
  );
  return true;
}
