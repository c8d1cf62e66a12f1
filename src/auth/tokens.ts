// Editor tokens: named bearer tokens with a role, kept in a JSON file as salted scrypt hashes.
// A token is shown once, when it is created; neither the file nor any message ever holds it.
import { createHash, randomBytes, type ScryptOptions, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export type Role = 'EDITOR' | 'ADMIN';

/** Who is making a request, as far as a token says. */
export interface Viewer {
  name: string;
  role: Role;
}

/** One token as stored: everything but the secret itself. */
export interface TokenEntry {
  name: string;
  role: Role;
  /** 8 hex characters, also written into the token, so verifying scrypts against one entry only. */
  id: string;
  /** 16 random bytes, base64url. */
  salt: string;
  /** scrypt(secret, salt), 32 bytes, base64url. */
  hash: string;
  /** ISO 8601. */
  createdAt: string;
}

export interface TokenFile {
  version: 1;
  tokens: TokenEntry[];
}

export const ROLES: readonly Role[] = ['EDITOR', 'ADMIN'];

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const ID_PATTERN = /^[0-9a-f]{8}$/;
const TOKEN_PATTERN = /^ngt_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;
const TOKEN_LENGTH = 'ngt_'.length + 8 + 1 + 43;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SECRET_BYTES = 32;
// N = 2^14, r = 8 needs 16 MiB and about 50 ms per verification; the cache below pays it once a minute per token.
const SCRYPT_OPTIONS: ScryptOptions = { N: 2 ** 14, r: 8, p: 1 };
const CACHE_TTL_MS = 60_000;
const CACHE_MAX_ENTRIES = 1_000;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isTokenName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** A new token and the entry that stores it; pure apart from the random id, salt and secret. */
export function createToken({ name, role }: Viewer): { token: string; entry: TokenEntry } {
  assertNameAndRole(name, role);
  const id = randomBytes(4).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(secret, salt, HASH_BYTES, SCRYPT_OPTIONS);
  return {
    token: `ngt_${id}_${secret}`,
    entry: { name, role, id, salt: salt.toString('base64url'), hash: hash.toString('base64url'), createdAt: new Date().toISOString() },
  };
}

interface StoredEntry {
  viewer: Viewer;
  salt: Buffer;
  hash: Buffer;
}

/** The tokens of one file, loaded once; verifies bearer tokens without ever throwing for bad input. */
export class TokenStore {
  /** SHA-256 of a verified token → its viewer; Map order is insertion order, so the first key is the oldest. */
  private readonly verified = new Map<string, { viewer: Viewer; expires: number }>();

  private constructor(private readonly byId: ReadonlyMap<string, StoredEntry>) {}

  /** Reads and validates a tokens file; throws an Error naming the file and every problem in it. */
  static async load(path: string): Promise<TokenStore> {
    const file = await readTokenFile(path);
    if (file === null) {
      throw new Error(
        `${path}: tokens file not found; create it with npm run token -- create NAME --role EDITOR (NEWSGRAPH_TOKENS_FILE sets its path)`,
      );
    }
    const byId = new Map<string, StoredEntry>();
    for (const entry of file.tokens) {
      byId.set(entry.id, {
        viewer: Object.freeze({ name: entry.name, role: entry.role }),
        salt: Buffer.from(entry.salt, 'base64url'),
        hash: Buffer.from(entry.hash, 'base64url'),
      });
    }
    return new TokenStore(byId);
  }

  /** A store that accepts no token. */
  static empty(): TokenStore {
    return new TokenStore(new Map());
  }

  /** The viewer a token (without the `Bearer ` scheme) stands for, or null for anything malformed, unknown or wrong. */
  async verify(bearer: string): Promise<Viewer | null> {
    // Checking the length first keeps oversized input away from the regular expression and the hash.
    if (typeof bearer !== 'string' || bearer.length !== TOKEN_LENGTH) return null;
    const match = TOKEN_PATTERN.exec(bearer);
    if (!match) return null;
    const [, id = '', secret = ''] = match;
    const stored = this.byId.get(id);
    if (!stored) return null;

    const key = createHash('sha256').update(bearer).digest('base64url');
    const now = Date.now();
    const cached = this.verified.get(key);
    if (cached && cached.expires > now) return cached.viewer;
    if (cached) this.verified.delete(key);

    const derived = await scryptAsync(secret, stored.salt);
    if (!timingSafeEqual(derived, stored.hash)) return null;

    if (this.verified.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(key, { viewer: stored.viewer, expires: now + CACHE_TTL_MS });
    return stored.viewer;
  }
}

/** Adds a token to the file (creating it, mode 0600, when missing) and returns the token, which nothing else keeps. */
export async function addToken(path: string, { name, role }: Viewer): Promise<string> {
  assertNameAndRole(name, role);
  const file = (await readTokenFile(path)) ?? { version: 1, tokens: [] };
  if (file.tokens.some((entry) => entry.name === name)) {
    throw new Error(`${path}: a token named "${name}" already exists; revoke it first or choose another name`);
  }
  let created = createToken({ name, role });
  // 2^32 ids make a clash unlikely, but a clash would make the older token unreachable.
  while (file.tokens.some((entry) => entry.id === created.entry.id)) created = createToken({ name, role });
  await writeTokenFile(path, { version: 1, tokens: [...file.tokens, created.entry] });
  return created.token;
}

/** Removes the named token; false when there is no such token (or no file). */
export async function revokeToken(path: string, name: string): Promise<boolean> {
  const file = await readTokenFile(path);
  if (file === null) return false;
  const tokens = file.tokens.filter((entry) => entry.name !== name);
  if (tokens.length === file.tokens.length) return false;
  await writeTokenFile(path, { version: 1, tokens });
  return true;
}

/** What may be shown of each token: never its hash or salt. An absent file has no tokens. */
export async function listTokens(path: string): Promise<{ name: string; role: Role; createdAt: string }[]> {
  const file = await readTokenFile(path);
  return (file?.tokens ?? []).map(({ name, role, createdAt }) => ({ name, role, createdAt }));
}

/** Reads and validates a tokens file; null when it does not exist. */
async function readTokenFile(path: string): Promise<TokenFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${path}: cannot read the tokens file (${(error as Error).message})`, { cause: error });
  }
  return parseTokenFile(text, path);
}

/** Validates a tokens file's text; the error names `source` and lists every problem. */
export function parseTokenFile(text: string, source: string): TokenFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text it rejects; the file is not to be echoed into logs.
    throw new Error(`${source}: not valid JSON; expected {"version": 1, "tokens": [...]} as written by npm run token`);
  }
  if (!isObject(data)) throw new Error(`${source}: expected a JSON object {"version": 1, "tokens": [...]}`);
  const problems: string[] = [];
  if (data.version !== 1) problems.push(`version must be 1, got ${JSON.stringify(data.version) ?? 'nothing'}`);
  if (!Array.isArray(data.tokens)) problems.push('tokens must be an array');
  const tokens: TokenEntry[] = [];
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  for (const [index, entry] of (Array.isArray(data.tokens) ? (data.tokens as unknown[]) : []).entries()) {
    const at = `tokens[${index}]`;
    if (!isObject(entry)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    const before = problems.length;
    const { name, role, id, salt, hash, createdAt } = entry;
    if (!isTokenName(name)) problems.push(`${at}.name must be 1–64 characters of A–Z, a–z, 0–9, ".", "_" or "-"`);
    else if (names.has(name)) problems.push(`${at}.name "${name}" is already used by tokens[${names.get(name)}]`);
    else names.set(name, index);
    if (!isRole(role)) problems.push(`${at}.role must be EDITOR or ADMIN`);
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) problems.push(`${at}.id must be 8 lowercase hex characters`);
    else if (ids.has(id)) problems.push(`${at}.id is already used by tokens[${ids.get(id)}]`);
    else ids.set(id, index);
    if (!isBase64url(salt, SALT_BYTES)) problems.push(`${at}.salt must be ${SALT_BYTES} bytes in base64url`);
    if (!isBase64url(hash, HASH_BYTES)) problems.push(`${at}.hash must be ${HASH_BYTES} bytes in base64url`);
    if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) problems.push(`${at}.createdAt must be an ISO 8601 time`);
    if (problems.length === before) {
      tokens.push({ name, role, id, salt, hash, createdAt } as TokenEntry);
    }
  }
  if (problems.length > 0) throw new Error(problems.map((problem) => `${source}: ${problem}`).join('\n'));
  return { version: 1, tokens };
}

/** Replaces the file in one step (temporary file, fsync, rename), so a reader never sees half a file. */
async function writeTokenFile(path: string, file: TokenFile): Promise<void> {
  // Through a symlink, replace the file it points to rather than the link.
  const target = await realpath(path).catch(() => path);
  await mkdir(dirname(target), { recursive: true });
  // An existing file keeps the permissions an operator gave it; a new one is readable by its owner only.
  const mode = ((await stat(target).catch(() => null))?.mode ?? 0o600) & 0o777;
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

function assertNameAndRole(name: unknown, role: unknown): void {
  if (!isTokenName(name)) {
    throw new Error(`token name must be 1–64 characters of A–Z, a–z, 0–9, ".", "_" or "-", got ${JSON.stringify(name)}`);
  }
  if (!isRole(role)) throw new Error(`role must be EDITOR or ADMIN, got ${JSON.stringify(role)}`);
}

function scryptAsync(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, HASH_BYTES, SCRYPT_OPTIONS, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

function isBase64url(value: unknown, bytes: number): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]+$/.test(value) && Buffer.from(value, 'base64url').length === bytes;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
