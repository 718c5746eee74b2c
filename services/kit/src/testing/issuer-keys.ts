import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/** The development issuer's only signature algorithm. */
export const ISSUER_ALG = 'RS256';

/** One key of the issuer: published in the JWKS from `createdAt` until it is retired. */
export interface IssuerKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** The private JWK, as the key file holds it. */
  readonly privateJwk: JWK;
  /** When it was published (ISO 8601). */
  readonly createdAt: string;
  /**
   * Seconds since the epoch until which a token it signed may be valid (an upper bound: it is saved
   * ahead of the tokens, see {@link IssuerKeySet.signed}). 0 for a key that never signed.
   */
  validUntil: number;
}

/** What the key file holds: the private JWKs (mode 0600), which key signs. */
interface KeyFile {
  readonly version: 1;
  readonly signing: string;
  readonly keys: readonly { readonly createdAt: string; readonly validUntil: number; readonly jwk: JWK }[];
}

/** A key file that cannot be used: the message names the file and the field. */
export class KeyFileError extends Error {
  constructor(file: string, what: string) {
    super(
      `${file}: ${what}; fix it, or delete the file to start with a new key (tokens already issued then fail)`,
    );
    this.name = 'KeyFileError';
  }
}

/** How far ahead of a token's `exp` {@link IssuerKeySet.signed} saves `validUntil`: one write per 5 minutes of tokens. */
const VALID_UNTIL_AHEAD_S = 300;

/** A new key pair, extractable so that the key file can hold it. */
export async function newIssuerKey(): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(ISSUER_ALG, {
    modulusLength: 2048,
    extractable: true,
  });
  const kid = randomUUID();
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ISSUER_ALG, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ISSUER_ALG },
    createdAt: new Date().toISOString(),
    validUntil: 0,
  };
}

/**
 * The issuer's keys, as an identity provider keeps them: every published key, one of them signing,
 * and, when a file is given, the whole set saved there (mode 0600, written to a temporary file and
 * renamed, so a crash never leaves half a file) after every change and reloaded at start, so that a
 * restarted issuer publishes the same JWKS and its earlier tokens stay valid.
 *
 * Rotation has three steps (docs/security.md, "Key rotation"): {@link publish} a new key, then
 * {@link sign} with it once every verifier can have seen it, then {@link retire} the old one after
 * the last token it signed expired.
 */
export class IssuerKeySet {
  private constructor(
    private readonly file: string | undefined,
    private keys: IssuerKey[],
    private signingKid: string,
  ) {}

  /**
   * The set saved in `file`, or a new one-key set (saved there when a file is given). Two issuers
   * starting on one new file agree on its keys: the file is created exclusively, the loser reads it.
   *
   * @throws KeyFileError when the file is not a key set this issuer wrote
   */
  public static async open(file: string | undefined): Promise<IssuerKeySet> {
    if (file === undefined) {
      const key = await newIssuerKey();
      return new IssuerKeySet(undefined, [key], key.kid);
    }
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new KeyFileError(file, (err as Error).message);
    }
    if (text === undefined) {
      const key = await newIssuerKey();
      const set = new IssuerKeySet(file, [key], key.kid);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // written aside, then linked in: link fails if the file exists, and never shows half a file
      const temporary = set.writeTemporary();
      try {
        linkSync(temporary, file);
        return set;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        text = readFileSync(file, 'utf8');
      } finally {
        rmSync(temporary, { force: true });
      }
    }
    return IssuerKeySet.parse(file, text);
  }

  private static async parse(file: string, text: string): Promise<IssuerKeySet> {
    let data: Partial<KeyFile>;
    try {
      data = JSON.parse(text) as Partial<KeyFile>;
    } catch {
      throw new KeyFileError(file, 'is not JSON');
    }
    if (data?.version !== 1)
      throw new KeyFileError(file, `version: must be 1, got ${JSON.stringify(data?.version)}`);
    if (!Array.isArray(data.keys) || data.keys.length === 0)
      throw new KeyFileError(file, 'keys: must be a non-empty list');
    const keys: IssuerKey[] = [];
    for (const [i, entry] of data.keys.entries()) {
      const jwk = entry?.jwk;
      if (!jwk || jwk.kty !== 'RSA' || typeof jwk.kid !== 'string' || typeof jwk.d !== 'string')
        throw new KeyFileError(file, `keys[${i}].jwk: must be a private RSA JWK with a kid`);
      if (typeof entry.createdAt !== 'string' || !Number.isFinite(entry.validUntil))
        throw new KeyFileError(file, `keys[${i}]: needs createdAt (ISO 8601) and validUntil (seconds)`);
      let privateKey: CryptoKey;
      try {
        privateKey = (await importJWK(jwk, ISSUER_ALG)) as CryptoKey;
      } catch (err) {
        throw new KeyFileError(file, `keys[${i}].jwk: ${(err as Error).message}`);
      }
      const { n, e, kid } = jwk;
      keys.push({
        kid,
        privateKey,
        publicJwk: { kty: 'RSA', n, e, kid, alg: ISSUER_ALG, use: 'sig' },
        privateJwk: jwk,
        createdAt: entry.createdAt,
        validUntil: entry.validUntil,
      });
    }
    if (!keys.some((k) => k.kid === data.signing))
      throw new KeyFileError(
        file,
        `signing: must be the kid of one of the keys, got ${JSON.stringify(data.signing)}`,
      );
    return new IssuerKeySet(file, keys, data.signing!);
  }

  /** The key that signs new tokens. */
  public get signing(): IssuerKey {
    return this.keys.find((k) => k.kid === this.signingKid)!;
  }

  /** Every published key, oldest first. */
  public get published(): readonly IssuerKey[] {
    return this.keys;
  }

  /** Publishes a new key in the JWKS without signing with it yet; returns its `kid`. */
  public async publish(): Promise<string> {
    const key = await newIssuerKey();
    this.keys = [...this.keys, key];
    this.save();
    return key.kid;
  }

  /**
   * Signs from now on with `kid` (a published key), or with a new key published at this moment.
   *
   * @returns the signing `kid` and the one it replaced
   * @throws Error when `kid` is not published
   */
  public async sign(kid?: string): Promise<{ kid: string; previous: string }> {
    const previous = this.signingKid;
    const next = kid ?? (await this.publish());
    if (!this.keys.some((k) => k.kid === next)) throw new RangeError(`kid: ${next} is not a published key`);
    this.signingKid = next;
    this.save();
    return { kid: next, previous };
  }

  /**
   * Withdraws `kid` from the JWKS: tokens it signed fail once verifiers refetch the set.
   *
   * @param force retire it even though tokens it signed may still be valid
   * @returns why it cannot be retired, or undefined once it is
   */
  public retire(kid: string, force = false): { status: 404 | 409; detail: string } | undefined {
    const key = this.keys.find((k) => k.kid === kid);
    if (!key) return { status: 404, detail: `kid: ${kid} is not a published key` };
    if (kid === this.signingKid)
      return {
        status: 409,
        detail: `kid: ${kid} is the signing key; sign with another key first (POST /keys/rotate)`,
      };
    if (!force && key.validUntil > Date.now() / 1000)
      return {
        status: 409,
        detail: `kid: ${kid} signed tokens that may be valid until ${new Date(key.validUntil * 1000).toISOString()}; retire it after that, or add ?force=true`,
      };
    this.keys = this.keys.filter((k) => k !== key);
    this.save();
    return undefined;
  }

  /** Records that the signing key signed a token valid until `exp` (saved ahead, not per token). */
  public signed(exp: number): void {
    const key = this.signing;
    if (exp <= key.validUntil) return;
    key.validUntil = exp + VALID_UNTIL_AHEAD_S;
    this.save();
  }

  /** Synchronous: an operation answers only once the file holds its result (a kill -9 loses nothing). */
  private save(): void {
    if (this.file === undefined) return;
    renameSync(this.writeTemporary(), this.file);
  }

  /** The set in a new file next to the key file (mode 0600), to be renamed or linked into place. */
  private writeTemporary(): string {
    const temporary = `${this.file}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(temporary, this.serialize(), { flag: 'wx', mode: 0o600 });
    return temporary;
  }

  private serialize(): string {
    const keys = this.keys.map((k) => ({
      createdAt: k.createdAt,
      validUntil: k.validUntil,
      jwk: k.privateJwk,
    }));
    const data: KeyFile = { version: 1, signing: this.signingKid, keys };
    return `${JSON.stringify(data, null, 2)}\n`;
  }
}
