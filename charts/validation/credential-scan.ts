/** A value that looks like a credential. */
export interface CredentialHit {
  /** Field path inside the object (or `[line]` for text). */
  readonly path: (string | number)[];
  readonly message: string;
}

/** Patterns of well-known credential formats. Template placeholders (`{{ ... }}`) never match. */
const PATTERNS: readonly { readonly name: string; readonly re: RegExp }[] = [
  { name: 'an AWS access key id', re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'a private key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: 'a URL with a password', re: /[a-z][a-z0-9+.-]*:\/\/[^\s/:@{}]*:[^\s/@{}]+@/i },
  { name: 'a GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { name: 'a Slack token', re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { name: 'a JSON Web Token', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
];

/** Keys whose literal value would be a secret. */
const SECRET_KEY =
  /^(password|passwd|secret|secret[_-]?key|api[_-]?key|token|auth[_-]?token|access[_-]?key|private[_-]?key|client[_-]?secret)$/i;

function inspect(value: string): string | undefined {
  return PATTERNS.find((p) => p.re.test(value))?.name;
}

/**
 * Walks an object and reports every string that looks like a credential, and every secret-named
 * key (`password`, `token`, ...) with a literal value. An env var that is set from a Secret has
 * no literal value, so it never matches.
 */
export function findCredentials(value: unknown, path: (string | number)[] = []): CredentialHit[] {
  const hits: CredentialHit[] = [];
  if (typeof value === 'string') {
    const what = inspect(value);
    if (what) hits.push({ path, message: `looks like ${what}; keep credentials in AWS Secrets Manager` });
    return hits;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => hits.push(...findCredentials(v, [...path, i])));
    return hits;
  }
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    // An env entry `{ name: DB_PASSWORD, value: '...' }` is a literal secret too.
    if (
      typeof obj.name === 'string' &&
      typeof obj.value === 'string' &&
      obj.value &&
      /PASSWORD|SECRET|TOKEN|API_?KEY/i.test(obj.name)
    ) {
      hits.push({
        path: [...path, 'value'],
        message: `'${obj.name}' has a literal value; set it from a Secret (valueFrom.secretKeyRef)`,
      });
    }
    for (const [k, v] of Object.entries(obj)) {
      if (SECRET_KEY.test(k) && typeof v === 'string' && v !== '' && !v.includes('{{')) {
        hits.push({
          path: [...path, k],
          message: `'${k}' has a literal value; keep credentials in AWS Secrets Manager`,
        });
      } else {
        hits.push(...findCredentials(v, [...path, k]));
      }
    }
  }
  return hits;
}

/** Scans text (a written file) line by line; returns the 1-based lines that look like a credential. */
export function scanText(text: string): { line: number; message: string }[] {
  const out: { line: number; message: string }[] = [];
  text.split('\n').forEach((l, i) => {
    const what = inspect(l);
    if (what)
      out.push({ line: i + 1, message: `looks like ${what}; keep credentials in AWS Secrets Manager` });
  });
  return out;
}
