import type { DetailsMessage } from '../../core/studyPage/protocol';
import type { MergedTrial } from '../../core/storage/mergedView';
import { show } from '../views/nodes';

/** A trial's details for the page's side panel, values as the tree shows them. */
export function trialDetails(
  row: number,
  m: MergedTrial,
  worker: string | undefined,
): DetailsMessage {
  const t = m.trial;
  const duration =
    t.datetimeStart && t.datetimeComplete
      ? `${((Date.parse(t.datetimeComplete) - Date.parse(t.datetimeStart)) / 1000).toFixed(3)} s`
      : '';
  const sections: DetailsMessage['sections'] = [
    {
      title: `Trial #${t.number}`,
      entries: [
        ['state', t.state],
        ['values', t.values ? t.values.map(show).join(', ') : '—'],
        ['started', t.datetimeStart ?? '—'],
        ['completed', t.datetimeComplete ?? '—'],
        ['duration', duration || '—'],
        ['trial_id', String(t.trialId)],
        ['source', m.source === 'both' ? 'Redis and SQLite' : m.source],
        ...(worker ? ([['worker', worker]] as Array<[string, string]>) : []),
      ],
    },
  ];
  const params = Object.entries(t.params);
  if (params.length)
    sections.push({
      title: 'Params',
      entries: params.map(([k, v]) => [
        k,
        `${show(v)}  (${t.distributions[k]?.name.replace('Distribution', '') ?? '?'})`,
      ]),
    });
  const steps = Object.keys(t.intermediateValues).sort((a, b) => Number(a) - Number(b));
  if (steps.length) {
    const shown = steps.slice(-30);
    sections.push({
      title: `Intermediate values (${steps.length}${steps.length > shown.length ? `, last ${shown.length}` : ''})`,
      entries: shown.map((k) => [`step ${k}`, show(t.intermediateValues[k])]),
    });
  }
  const ua = Object.entries(t.userAttrs);
  if (ua.length)
    sections.push({ title: 'User attributes', entries: ua.map(([k, v]) => [k, show(v)]) });
  const sa = Object.entries(t.systemAttrs);
  if (sa.length)
    sections.push({ title: 'System attributes', entries: sa.map(([k, v]) => [k, show(v)]) });
  return { type: 'details', row, sections };
}
