/** One field whose value differs between the monolith's and the service's answer. */
export interface FieldMismatch {
  /** Field path, array indices as `[]` (`orders[].total`); `(status)` for the HTTP status. */
  readonly field: string;
  /** The monolith's value (`undefined`: the field is absent there). */
  readonly monolith?: unknown;
  /** The service's value (`undefined`: the field is absent there). */
  readonly service?: unknown;
}

/** One compared request, as the shadow comparer records it (one JSON line each). */
export interface ShadowRecord {
  /** ISO time of the comparison. */
  readonly at: string;
  readonly service: string;
  /** The route's path prefix. */
  readonly route: string;
  /** The request's method and URI at the gateway. */
  readonly method: string;
  readonly uri: string;
  readonly mismatches: readonly FieldMismatch[];
}

/** A mismatching field over many records, with a few samples. */
export interface FieldReport {
  readonly service: string;
  readonly route: string;
  readonly field: string;
  readonly count: number;
  readonly samples: readonly {
    readonly uri: string;
    readonly monolith?: unknown;
    readonly service?: unknown;
  }[];
}

/** What `aio shadow report` prints. */
export interface ShadowReport {
  /** Comparisons recorded. */
  readonly compared: number;
  /** Comparisons with at least one mismatch. */
  readonly mismatched: number;
  /** Mismatches by field, most frequent first. */
  readonly fields: readonly FieldReport[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * True when `field` (a path with `[]` for indices) is declared noisy: an entry equals the path, or
 * names its last key (`createdAt` ignores `orders[].createdAt` at any depth), or is a prefix of it.
 */
export function isIgnored(field: string, ignore: readonly string[]): boolean {
  const last = field
    .replace(/\[\]$/g, '')
    .split(/\.|\[\]\.?/)
    .filter(Boolean)
    .pop();
  return ignore.some(
    (i) => i === field || i === last || field.startsWith(`${i}.`) || field.startsWith(`${i}[]`),
  );
}

/**
 * The fields in which two JSON values differ, leaf by leaf, without the ignored ones. Arrays are
 * compared by position (a different length is a mismatch at `path[]` with both lengths), objects
 * key by key (a key on one side only is a mismatch with the other side `undefined`).
 */
export function diffJson(
  monolith: unknown,
  service: unknown,
  ignore: readonly string[] = [],
): FieldMismatch[] {
  const out: FieldMismatch[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (path && isIgnored(path, ignore)) return;
    if (isObject(a) && isObject(b)) {
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        walk(a[k], b[k], path ? `${path}.${k}` : k);
      }
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const at = `${path}[]`;
      if (a.length !== b.length) {
        if (!isIgnored(at, ignore))
          out.push({ field: `${at}.length`, monolith: a.length, service: b.length });
      }
      for (let i = 0; i < Math.min(a.length, b.length); i++) walk(a[i], b[i], at);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push({
        field: path || '(body)',
        ...(a === undefined ? {} : { monolith: a }),
        ...(b === undefined ? {} : { service: b }),
      });
    }
  };
  walk(monolith, service, '');
  // one entry per field: the first sample of a field repeated across array elements is enough
  const seen = new Set<string>();
  return out.filter((m) => !seen.has(m.field) && seen.add(m.field));
}

/** Aggregates comparer records by service, route and field, keeping up to `samples` samples each. */
export function shadowReport(records: readonly ShadowRecord[], samples = 3): ShadowReport {
  const byField = new Map<
    string,
    {
      service: string;
      route: string;
      field: string;
      count: number;
      samples: FieldReport['samples'][number][];
    }
  >();
  for (const r of records) {
    for (const m of r.mismatches) {
      const key = `${r.service}\u0000${r.route}\u0000${m.field}`;
      let f = byField.get(key);
      if (!f)
        byField.set(key, (f = { service: r.service, route: r.route, field: m.field, count: 0, samples: [] }));
      f.count++;
      if (f.samples.length < samples)
        f.samples.push({ uri: r.uri, monolith: m.monolith, service: m.service });
    }
  }
  return {
    compared: records.length,
    mismatched: records.filter((r) => r.mismatches.length > 0).length,
    fields: [...byField.values()].sort(
      (a, b) => b.count - a.count || a.route.localeCompare(b.route) || a.field.localeCompare(b.field),
    ),
  };
}

/** The report as text: one block per field, with its samples. */
export function formatShadowReport(report: ShadowReport): string {
  const lines = [`${report.compared} compared, ${report.mismatched} with mismatches`];
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  for (const f of report.fields) {
    lines.push(`${f.service} ${f.route}  ${f.field}: ${f.count} mismatch${f.count === 1 ? '' : 'es'}`);
    for (const s of f.samples)
      lines.push(`    ${s.uri}  monolith ${show(s.monolith)}  service ${show(s.service)}`);
  }
  return lines.join('\n');
}
