// The page's link to the extension host: messages both ways through the webview API, the page
// state VS Code keeps across reloads, and the timing reports that the log, the tests and the
// benchmark read.
import type {
  HostMessage,
  PageReport,
  PageState,
  WebviewMessage,
} from '../../core/studyPage/protocol';

interface VsCodeApi {
  postMessage(msg: WebviewMessage, transfer?: Transferable[]): void;
  getState(): PageState | undefined;
  setState(s: PageState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What a part of the page reports; the host link adds where the page stands. */
export type Report = Omit<PageReport, 'generation' | 'rows' | 'shown'>;

export class Host {
  /** The page's own choices (sort, filters, plot options), restored after a reload. */
  state: PageState;
  /** CSP violations seen so far: reported with the table, so a test sees a policy the page breaks. */
  cspViolations = 0;
  // VS Code hands out the API once per page.
  private readonly api = acquireVsCodeApi();

  /** `sizes`: the study's generation, its rows and the rows the table shows, for each report. */
  constructor(private readonly sizes: () => Pick<PageReport, 'generation' | 'rows' | 'shown'>) {
    this.state = this.api.getState() ?? { studyKey: '', studyName: '' };
    document.addEventListener('securitypolicyviolation', (e) => {
      this.cspViolations++;
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  }

  post(msg: WebviewMessage, transfer?: Transferable[]): void {
    this.api.postMessage(msg, transfer);
  }

  save(patch: Partial<PageState>): void {
    this.state = { ...this.state, ...patch };
    this.api.setState(this.state);
  }

  report(r: Report): void {
    const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
    this.post({
      type: 'report',
      report: { at: Date.now(), ...this.sizes(), heapBytes: mem?.usedJSHeapSize, ...r },
    });
  }

  onMessage(handle: (m: HostMessage) => void): void {
    window.addEventListener('message', (ev: MessageEvent<HostMessage>) => handle(ev.data));
  }
}
