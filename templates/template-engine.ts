/**
 * The scaffolder's template language: a small, logic-less subset of Mustache.
 *
 * - `{{name}}` inserts a value (no HTML escaping: the output is source code, not markup).
 * - `{{#if flag}}` … `{{/if}}` keeps its body when `flag` is truthy; `{{#unless flag}}` when falsy.
 *   A block tag alone on its line removes the whole line, so templates stay readable.
 *
 * An unknown variable or an unclosed block is an error: a typo in a template must fail the
 * snapshot test, never render an empty string into a customer's repo.
 *
 * @see https://mustache.github.io/mustache.5.html
 */
export type TemplateValues = Readonly<Record<string, string | number | boolean>>;

const TAG = /\{\{\s*([#/]?)(if|unless)?\s*([\w.]*)\s*\}\}/g;
const BLOCK_LINE = /^[ \t]*\{\{\s*[#/](?:if|unless)\b[^}]*\}\}[ \t]*\r?\n/gm;

/**
 * Renders one template text with `values`.
 *
 * @param source where the text came from, for error messages
 * @throws Error naming `source` for an unknown variable, or an unbalanced block
 */
export function renderTemplate(text: string, values: TemplateValues, source = 'template'): string {
  // Standalone block tags swallow their own line (and its newline).
  const compact = text.replace(BLOCK_LINE, (line) => line.trim());
  const out: string[] = [];
  const stack: { kind: string; name: string; keep: boolean }[] = [];
  const emitting = () => stack.every((b) => b.keep);
  let last = 0;
  for (const m of compact.matchAll(TAG)) {
    const [whole, sigil, kind, name] = m as unknown as [string, string, string | undefined, string];
    if (emitting()) out.push(compact.slice(last, m.index));
    last = m.index + whole.length;
    if (sigil === '#') {
      if (!kind) throw new Error(`${source}: unknown block '${whole}'; use {{#if x}} or {{#unless x}}`);
      const value = lookup(values, name, source);
      stack.push({ kind, name, keep: kind === 'if' ? Boolean(value) : !value });
    } else if (sigil === '/') {
      const open = stack.pop();
      if (!open || open.kind !== kind || (name && open.name !== name)) {
        throw new Error(`${source}: '${whole}' closes no open {{#${kind} ${name}}} block`);
      }
    } else if (emitting()) {
      out.push(String(lookup(values, name, source)));
    }
  }
  if (stack.length > 0) {
    throw new Error(`${source}: {{#${stack[0]!.kind} ${stack[0]!.name}}} is never closed`);
  }
  out.push(compact.slice(last));
  return out.join('');
}

function lookup(values: TemplateValues, name: string, source: string): string | number | boolean {
  if (!Object.hasOwn(values, name)) {
    const known = Object.keys(values).sort().join(', ');
    throw new Error(`${source}: unknown template variable '${name}'; known variables are ${known}`);
  }
  return values[name]!;
}
