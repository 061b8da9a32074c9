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

/** Shells whose `-c` argument is parsed again as code. */
const SHELLS = /^(.*\/)?(ba|da|z|k|mk|fi|c|tc|)sh$/;

/**
 * Splits a template into text and placeholders. Written bare, each value becomes exactly one
 * shell word. A placeholder where quoting does not make it one inert word is an error:
 * inside quotes (`"…"` still runs `$(…)`, `'…'` would be ended by the value), inside
 * backticks (which re-read backslashes), in arithmetic `$(( ))`/`(( ))` and `[[ ]]` (both
 * evaluate `a[$(cmd)]` in a value), in a heredoc body (quotes are literal there, `$(…)` runs),
 * and in a command run by `eval` or `bash -c`/`sh -c` (its arguments are parsed again).
 */
export function parseTemplate(template: string): ParsedTemplate {
  if (template.trim() === '') throw new TemplateError('the command template is empty');
  const parts: TemplatePart[] = [];
  const names: string[] = [];
  let text = '';
  let quote: "'" | '"' | undefined;
  let backtick = false;
  let arith = 0; // open parentheses of an arithmetic $(( )) or (( ))
  let test = false; // inside [[ ]]
  const heredocs: string[] = []; // delimiters of heredocs whose bodies start at the next newline
  let words: string[] = []; // words of the current simple command so far
  let word = '';
  const endWord = () => {
    if (word) words.push(word);
    word = '';
  };
  const refuse = (at: number, where: string): never => {
    throw new TemplateError(
      `placeholder ${PLACEHOLDER.exec(template.slice(at))![0]} is ${where}: quoting cannot make a value safe there`,
    );
  };
  const reparsed = () => {
    const w = [...words, word].filter(Boolean).map((x) => x.replace(/^['"]|['"]$/g, ''));
    if (w.includes('eval')) return 'an argument of eval, which runs it as code';
    const sh = w.findIndex((x) => SHELLS.test(x));
    if (sh >= 0 && w.slice(sh + 1).some((x) => /^-[a-z]*c[a-z]*$/.test(x)))
      return `in a command run by ${w[sh]} -c, which parses it again as code`;
    return undefined;
  };
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else if (c === '{' && PLACEHOLDER.test(template.slice(i)))
        throw new TemplateError(
          `placeholder ${PLACEHOLDER.exec(template.slice(i))![0]} is inside single quotes: write it bare, values are quoted for you`,
        );
      text += c;
      word += c;
      continue;
    }
    if (c === '\\') {
      text += c + (template[i + 1] ?? '');
      word += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '`') {
      backtick = !backtick;
      text += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '{' && template[i - 1] !== '$' && PLACEHOLDER.test(template.slice(i)))
        throw new TemplateError(
          `placeholder ${PLACEHOLDER.exec(template.slice(i))![0]} is inside double quotes: write it bare, values are quoted for you`,
        );
      text += c;
      word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      text += c;
      word += c;
      continue;
    }
    if (c === '\n' && heredocs.length > 0) {
      // Skip each heredoc body up to its delimiter line; a placeholder in it is refused.
      let at = i + 1;
      for (const delim of heredocs) {
        for (;;) {
          const eol = template.indexOf('\n', at);
          const line = template.slice(at, eol < 0 ? undefined : eol);
          const ph = line.search(/(?<!\$)\{[A-Za-z_][A-Za-z0-9_]*\}/);
          if (line.replace(/^\t+/, '') !== delim && ph >= 0) refuse(at + ph, 'in a heredoc body');
          at = eol < 0 ? template.length : eol + 1;
          if (line.replace(/^\t+/, '') === delim || eol < 0) break;
        }
      }
      heredocs.length = 0;
      text += template.slice(i, at);
      i = at - 1;
      endWord();
      words = [];
      continue;
    }
    if (
      c === '<' &&
      template.startsWith('<<', i) &&
      !template.startsWith('<<<', i) &&
      template[i - 1] !== '<'
    ) {
      const m = /^<<-?\s*(['"]?)([^\s'"<>;&|]+)\1/.exec(template.slice(i));
      if (m) {
        heredocs.push(m[2]);
        text += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    if (c === '(' && template[i + 1] === '(' && (arith > 0 || template[i - 1] !== '(')) {
      arith += 2;
      text += '((';
      i++;
      continue;
    }
    if (arith > 0 && c === '(') arith++;
    if (arith > 0 && c === ')') arith--;
    if (c === '[' && template.startsWith('[[', i) && /(^|[\s;&|(])$/.test(template.slice(0, i)))
      test = true;
    if (test && template.startsWith(']]', i)) test = false;
    const m = c === '{' && template[i - 1] !== '$' ? PLACEHOLDER.exec(template.slice(i)) : null;
    if (m) {
      if (backtick) refuse(i, 'inside backticks');
      if (arith > 0) refuse(i, 'inside an arithmetic (( ))');
      if (test) refuse(i, 'inside [[ ]]');
      const re = reparsed();
      if (re) refuse(i, re);
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'placeholder', name: m[1] });
      if (!names.includes(m[1])) names.push(m[1]);
      word += '\u0000'; // a value: part of a word, never a command name to look for
      i += m[0].length - 1;
      continue;
    }
    if (/\s/.test(c)) endWord();
    else if (';&|()'.includes(c)) {
      endWord();
      words = [];
    } else word += c;
    if (c === '\n') words = [];
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
