import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import { type MonitorSnapshot, monitorSnapshot } from '../../core/redis/monitor';
import type { StoreService } from '../storeService';

type MonitorNode = {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon?: string;
  color?: string;
  children?: MonitorNode[];
};

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const ago = (unixSeconds: number) =>
  unixSeconds ? `${Math.max(0, Math.round(Date.now() / 1000 - unixSeconds))} s ago` : 'never';

/**
 * The Redis Monitor view: clients, memory, throughput, persistence, keyspace, slowlog,
 * latency and, per journal prefix, entries, bytes, gaps and the workers writing now. It reads
 * a snapshot only while visible (the caller's refresh manager), and its warnings are mirrored
 * in the status bar.
 */
export class MonitorProvider extends Disposable implements vscode.TreeDataProvider<MonitorNode> {
  private readonly changed = this._register(new vscode.EventEmitter<MonitorNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly warningsEmitter = this._register(
    new vscode.EventEmitter<MonitorSnapshot['warnings']>(),
  );
  readonly onDidChangeWarnings = this.warningsEmitter.event;
  snapshot: MonitorSnapshot | undefined;
  error: string | undefined;
  private busy: Promise<void> | undefined;

  constructor(private readonly service: StoreService) {
    super();
  }

  /** Takes a new snapshot (one at a time); never rejects. */
  refresh(): Promise<void> {
    this.busy ??= this.take().finally(() => (this.busy = undefined));
    return this.busy;
  }

  private async take(): Promise<void> {
    const client = this.service.current?.redisClient;
    if (!this.service.settings.redisUrl) {
      this.snapshot = undefined;
      this.error =
        'No Redis configured: the SQLite file is the store (Configure Connection adds one)';
    } else if (!client || this.service.state.state !== 'redis') {
      this.snapshot = undefined;
      this.error = `Redis is not reachable: ${this.service.state.detail}`;
    } else {
      try {
        this.snapshot = await monitorSnapshot(client, { prefixes: this.service.settings.prefixes });
        this.error = undefined;
      } catch (e) {
        this.error = (e as Error).message;
      }
    }
    this.warningsEmitter.fire(this.snapshot?.warnings.filter((w) => w.severity !== 'info') ?? []);
    this.changed.fire(undefined);
  }

  getTreeItem(n: MonitorNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      n.label,
      n.children ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.id = n.id;
    item.description = n.description;
    item.tooltip = n.tooltip;
    if (n.icon)
      item.iconPath = new vscode.ThemeIcon(
        n.icon,
        n.color ? new vscode.ThemeColor(n.color) : undefined,
      );
    return item;
  }

  getChildren(n?: MonitorNode): MonitorNode[] {
    if (n) return n.children ?? [];
    if (this.error)
      return [
        this.service.settings.redisUrl
          ? { id: 'error', label: this.error, icon: 'warning', color: 'list.warningForeground' }
          : { id: 'error', label: this.error, icon: 'info' },
      ];
    const s = this.snapshot;
    if (!s) return [{ id: 'loading', label: 'Reading Redis…', icon: 'loading~spin' }];
    const kv = (id: string, label: string, description: string, warn = false): MonitorNode => ({
      id,
      label,
      description,
      icon: warn ? 'warning' : undefined,
      color: warn ? 'list.warningForeground' : undefined,
    });
    const nodes: MonitorNode[] = [];
    if (s.warnings.length) {
      nodes.push({
        id: 'warnings',
        label: `Warnings (${s.warnings.length})`,
        icon: 'warning',
        color: 'list.warningForeground',
        children: s.warnings.map((w, i) => ({
          id: `w${i}`,
          label: w.title,
          description: w.severity,
          tooltip: `${w.evidence}\n\nFix: ${w.fix}`,
          icon: w.severity === 'error' ? 'error' : w.severity === 'warning' ? 'warning' : 'info',
        })),
      });
    }
    nodes.push(
      {
        id: 'server',
        label: 'Server',
        description: `Redis ${s.server.version} · ${s.server.role} · up ${Math.round(s.server.uptimeSeconds / 60)} min`,
        icon: 'server',
      },
      {
        id: 'clients',
        label: 'Clients',
        icon: 'plug',
        children: [
          kv(
            'c1',
            'connected',
            `${s.clients.connected}${s.clients.maxclients ? ` of ${s.clients.maxclients}` : ''}`,
          ),
          kv('c2', 'blocked', String(s.clients.blocked)),
          kv('c3', 'rejected', String(s.clients.rejected), s.clients.rejected > 0),
        ],
      },
      {
        id: 'memory',
        label: 'Memory',
        icon: 'dashboard',
        children: [
          kv('m1', 'used', mb(s.memory.used)),
          kv('m2', 'peak', mb(s.memory.peak)),
          kv('m3', 'maxmemory', s.memory.maxmemory ? mb(s.memory.maxmemory) : 'no limit'),
          kv('m4', 'policy', s.memory.policy, s.memory.policy !== 'noeviction'),
          kv('m5', 'fragmentation', s.memory.fragmentationRatio?.toFixed(2) ?? '—'),
        ],
      },
      {
        id: 'throughput',
        label: 'Throughput',
        description: `${s.throughput.opsPerSec} ops/s`,
        icon: 'pulse',
      },
      {
        id: 'persistence',
        label: 'Persistence',
        icon: 'save',
        children: [
          kv(
            'p1',
            'AOF',
            s.persistence.aofEnabled
              ? `on${s.persistence.aofRewriteInProgress ? ', rewriting' : ''} · last write ${s.persistence.aofLastWriteStatus}`
              : 'off',
            !s.persistence.aofEnabled || s.persistence.aofLastWriteStatus !== 'ok',
          ),
          kv(
            'p2',
            'last RDB save',
            `${ago(s.persistence.rdbLastSaveTime)} · ${s.persistence.rdbLastBgsaveStatus}`,
            s.persistence.rdbLastBgsaveStatus !== 'ok',
          ),
          kv('p3', 'changes since save', String(s.persistence.rdbChangesSinceLastSave)),
        ],
      },
      {
        id: 'keyspace',
        label: 'Keyspace',
        icon: 'key',
        children: s.keyspace.map((k) =>
          kv(`k${k.db}`, `db${k.db}`, `${k.keys} keys, ${k.expires} with TTL`),
        ),
      },
      {
        id: 'journals',
        label: 'Journals',
        icon: 'list-ordered',
        children: s.journals.map((j) => ({
          id: `j:${j.prefix}`,
          label: `prefix "${j.prefix}"`,
          description: `${j.entries} entries · ${mb(j.bytes)}${j.bytesEstimated ? ' (est.)' : ''}${j.gaps.missing ? ` · ${j.gaps.missing} missing` : ''}`,
          icon: j.gaps.missing ? 'warning' : 'database',
          color: j.gaps.missing ? 'list.warningForeground' : undefined,
          children: j.writers.length
            ? j.writers.map((w) =>
                kv(`j:${j.prefix}:${w.workerId}`, w.workerId, `${w.entries} of the latest entries`),
              )
            : [kv(`j:${j.prefix}:none`, 'no recent writers', '')],
        })),
      },
      {
        id: 'slowlog',
        label: 'Slowlog',
        description: `${s.slowlog.length} entries`,
        icon: 'watch',
        children: s.slowlog.map((e) =>
          kv(
            `s${e.id}`,
            e.command.join(' ').slice(0, 80),
            `${(e.durationMicros / 1000).toFixed(1)} ms · ${ago(e.time)}`,
          ),
        ),
      },
      {
        id: 'latency',
        label: 'Latency',
        icon: 'clock',
        children: s.latency.length
          ? s.latency.map((l) =>
              kv(`l:${l.event}`, l.event, `latest ${l.latestMs} ms, max ${l.maxMs} ms`),
            )
          : [kv('l:none', 'no latency events', '')],
      },
    );
    return nodes;
  }
}
