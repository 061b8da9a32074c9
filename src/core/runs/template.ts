import { type ParamSpec, type Values, checkValues, roleOf } from './params';
import { CONTROL_CHARS, shellQuote } from './shell';

/**
 * A command template: shell text written by the user (trusted, it is their setting) with
 * `{name}` placeholders for values typed in the launch form (untrusted: every value is
 * validated, then shell-quoted as one word). `${VAR}` stays shell syntax.
 */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'placeholder'; name: string };

export interface ParsedTemplate {
  parts: TemplatePart[];
  /** Placeholder names in order of first appearance. */
  names: string[];
}

export class TemplateError extends Error {}

const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/;

/**
 * Splits a template into text and placeholders. A placeholder inside quotes is an error: a
 * quoted value inside `"…"` would be spliced into a context where `$(…)` still runs, and
 * inside `'…'` it would end the quote. Written bare, each value becomes exactly one word.
 */
export function parseTemplate(template: string): ParsedTemplate {
  if (template.trim() === '') throw new TemplateError('the command template is empty');
  const parts: TemplatePart[] = [];
  const names: string[] = [];
  let text = '';
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else if (c === '{' && PLACEHOLDER.test(template.slice(i)))
        throw new TemplateError(
          `placeholder ${PLACEHOLDER.exec(template.slice(i))![0]} is inside single quotes: write it bare, values are quoted for you`,
        );
      text += c;
      continue;
    }
    if (c === '\\') {
      text += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '{' && template[i - 1] !== '$' && PLACEHOLDER.test(template.slice(i)))
        throw new TemplateError(
          `placeholder ${PLACEHOLDER.exec(template.slice(i))![0]} is inside double quotes: write it bare, values are quoted for you`,
        );
      text += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      text += c;
      continue;
    }
    const m = c === '{' && template[i - 1] !== '$' ? PLACEHOLDER.exec(template.slice(i)) : null;
    if (m) {
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'placeholder', name: m[1] });
      if (!names.includes(m[1])) names.push(m[1]);
      i += m[0].length - 1;
      continue;
    }
    text += c;
  }
  if (quote)
    throw new TemplateError(
      `the command template has an unterminated ${quote === "'" ? 'single' : 'double'} quote`,
    );
  if (text) parts.push({ kind: 'text', text });
  return { parts, names };
}

/** The implicit spec of `{study}` when the parameters setting does not declare it. */
export const STUDY_PARAM: ParamSpec = {
  name: 'study',
  type: 'string',
  role: 'study',
  label: 'study',
  description: 'Optuna study name the run writes to',
};

/**
 * The parameters the template uses, in the order the schema lists them (then any implicit
 * `{study}`). Placeholders the schema does not declare are an error.
 */
export function templateParams(t: ParsedTemplate, schema: ParamSpec[]): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const p of schema) if (t.names.includes(p.name)) out.push(p);
  for (const n of t.names) {
    if (out.some((p) => p.name === n)) continue;
    if (n === 'study') out.push(STUDY_PARAM);
    else
      throw new TemplateError(
        `placeholder {${n}} is not declared in optunaStorage.runs.parameters`,
      );
  }
  return out;
}

/** Fills a template with already validated values, each quoted as one shell word. */
export function fillTemplate(t: ParsedTemplate, values: Values): string {
  return t.parts
    .map((p) => {
      if (p.kind === 'text') return p.text;
      const v = values[p.name];
      if (v === undefined) throw new TemplateError(`no value for {${p.name}}`);
      return shellQuote(v);
    })
    .join('');
}

/** Validates every value the template needs and fills it; throws with all messages. */
export function buildCommand(
  template: string,
  schema: ParamSpec[],
  raw: Values,
): { command: string; params: ParamSpec[]; values: Values } {
  const t = parseTemplate(template);
  const params = templateParams(t, schema);
  const { values, errors } = checkValues(params, raw);
  const msgs = Object.values(errors);
  if (msgs.length) throw new TemplateError(msgs.join('; '));
  return { command: fillTemplate(t, values), params, values };
}

/** The parameter holding the study name, if the template has one. */
export function studyParam(params: ParamSpec[]): ParamSpec | undefined {
  return params.find((p) => roleOf(p) === 'study');
}

/** The parameter holding the planned trial count, if the template has one. */
export function trialsParam(params: ParamSpec[]): ParamSpec | undefined {
  return params.find((p) => roleOf(p) === 'trials');
}

/**
 * A run's display name from a label template (e.g. `{method} {strategy}` → `tpe multistage`).
 * Plain text, never run: placeholders without a value vanish, control characters are dropped.
 */
export function runLabel(labelTemplate: string, values: Values, fallback = 'run'): string {
  const text = labelTemplate.replace(
    /\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
    (_m, n: string) => values[n] ?? '',
  );
  const clean = text
    .replace(new RegExp(CONTROL_CHARS.source, 'g'), ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return (clean || fallback).slice(0, 60);
}
