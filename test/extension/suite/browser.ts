// Reaching the browser from tests in the extension host, through the runner's bridge
// (test/extension/runOffline.ts, OSM_BROWSER_BRIDGE): a webview's DOM and real input events.
import type { PageReport } from '../../../src/core/studyPage/protocol';
import type { StudyPagePanel } from '../../../src/vscode/studyPage/studyPagePanel';
import { until } from '../../helpers/waitFor';
import type { BridgeRequest } from '../runOffline';

export const bridgeUrl = process.env.OSM_BROWSER_BRIDGE;

async function send<T>(r: BridgeRequest): Promise<T> {
  if (!bridgeUrl) throw new Error('no browser bridge (run under test/extension/runOffline.ts)');
  const res = await fetch(bridgeUrl, { method: 'POST', body: JSON.stringify(r) });
  const body = (await res.json()) as { ok: boolean; value?: T; error?: string };
  if (!body.ok) throw new Error(`browser: ${body.error}`);
  return body.value as T;
}

/** A webview found by its document title. */
export function webview(title: string) {
  return {
    eval: <T>(expression: string) =>
      send<T>({ target: 'webview', title, action: 'eval', expression }),
    click: (selector: string) =>
      send<boolean>({ target: 'webview', title, action: 'click', selector }),
    fill: (selector: string, text: string) =>
      send<boolean>({ target: 'webview', title, action: 'fill', selector, text }),
    press: (selector: string, key: string) =>
      send<boolean>({ target: 'webview', title, action: 'press', selector, key }),
    drag: (selector: string, from: [number, number], to: [number, number]) =>
      send<boolean>({ target: 'webview', title, action: 'drag', selector, from, to }),
  };
}

/** Waits for a report of a study page matching `pred`, among those after the first `since`. */
export async function pageReport(
  panel: StudyPagePanel,
  pred: (r: PageReport) => boolean,
  since = 0,
  timeoutMs = 60_000,
): Promise<PageReport> {
  let found: PageReport | undefined;
  await until(
    () => !!(found = panel.reports.slice(since).find(pred)),
    timeoutMs,
    'a report from the study page',
  );
  return found!;
}
