import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken, createToken, listTokens, revokeToken, type TokenEntry, TokenStore } from '../src/auth/tokens.js';

const run = promisify(execFile);
const TOKEN_FORMAT = /^ngt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;
// The secret is base64url and may itself contain "_", so the parts are cut by position, not split.
const idOf = (token: string) => token.slice(4, 12);
const secretOf = (token: string) => token.slice(13);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'newsgraph-tokens-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshFile = () => join(dir, `tokens-${++files}.json`);

/** The same character set, one character different. */
function changeAt(token: string, index: number): string {
  const replacement = token[index] === 'A' ? 'B' : 'A';
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

describe('editor tokens', () => {
  let path: string;
  let editor: string;
  let admin: string;
  let store: TokenStore;
  beforeAll(async () => {
    path = freshFile();
    editor = await addToken(path, { name: 'li.wei', role: 'EDITOR' });
    admin = await addToken(path, { name: 'desk-admin', role: 'ADMIN' });
    store = await TokenStore.load(path);
  });

  it('verifies a created token to its name and role', async () => {
    expect(editor).toMatch(TOKEN_FORMAT);
    expect(await store.verify(editor)).toEqual({ name: 'li.wei', role: 'EDITOR' });
    expect(await store.verify(admin)).toEqual({ name: 'desk-admin', role: 'ADMIN' });
  });

  it('refuses a token with any one character changed, even after the real one was verified', async () => {
    await store.verify(editor);
    // In the id, in the secret, and the last character, whose low bits base64url decoding would ignore.
    for (const index of [5, 20, editor.length - 1]) {
      expect(await store.verify(changeAt(editor, index)), `character ${index}`).toBeNull();
    }
  });

  it("refuses another entry's id with a wrong secret", async () => {
    const forged = `ngt_${idOf(admin)}_${secretOf(editor)}`;
    expect(forged).toMatch(TOKEN_FORMAT);
    expect(await store.verify(forged)).toBeNull();
  });

  it('returns null, without throwing, for malformed or unknown tokens', async () => {
    const fresh = await TokenStore.load(path);

    const unknownId = `ngt_${idOf(editor) === '00000000' ? '11111111' : '00000000'}_${secretOf(editor)}`;
    expect(unknownId).toMatch(TOKEN_FORMAT);
    const bad = [
      '',
      ' ',
      'garbage',
      `Bearer ${editor}`,
      `${editor} `,
      ` ${editor}`,
      editor.toUpperCase(),
      editor.replace('ngt_', 'ngx_'),
      editor.slice(0, -1),
      `${editor}A`,
      `ngt_${idOf(editor)}_${'!'.repeat(43)}`,
      unknownId,
      'ngt_'.padEnd(10 * 1024, 'a'),
      editor.repeat(200),
      '\u0000'.repeat(56),
      '令牌'.repeat(28),
    ];
    for (const input of bad) expect(await fresh.verify(input), JSON.stringify(input.slice(0, 60))).toBeNull();
    // (Timing is left to benchmarks: malformed input never reaches scrypt, see src/auth/tokens.ts.)
  });

  it('answers repeated verifications of a good token the same way', async () => {
    const fresh = await TokenStore.load(path);
    for (let i = 0; i < 20; i++) expect(await fresh.verify(admin)).toEqual({ name: 'desk-admin', role: 'ADMIN' });
  });

  it('keeps only salted hashes in a file readable by its owner alone', () => {
    const text = readFileSync(path, 'utf8');
    for (const token of [editor, admin]) {
      expect(text).not.toContain(secretOf(token));
      expect(text).not.toContain(token);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(text) as { version: number; tokens: TokenEntry[] };
    expect(file.version).toBe(1);
    expect(file.tokens.map((t) => Object.keys(t).sort())).toEqual([
      ['createdAt', 'hash', 'id', 'name', 'role', 'salt'],
      ['createdAt', 'hash', 'id', 'name', 'role', 'salt'],
    ]);
    expect(file.tokens[0]?.salt).not.toBe(file.tokens[1]?.salt);
  });

  it('lists names, roles and creation times only', async () => {
    const tokens = await listTokens(path);
    expect(tokens.map(({ name, role }) => ({ name, role }))).toEqual([
      { name: 'li.wei', role: 'EDITOR' },
      { name: 'desk-admin', role: 'ADMIN' },
    ]);
    for (const token of tokens) {
      expect(Object.keys(token).sort()).toEqual(['createdAt', 'name', 'role']);
      expect(Date.parse(token.createdAt)).toBeGreaterThan(Date.now() - 60 * 60_000);
    }
    expect(await listTokens(join(dir, 'absent.json'))).toEqual([]);
  });

  it('refuses a second token with the same name, leaving the first valid', async () => {
    await expect(addToken(path, { name: 'li.wei', role: 'ADMIN' })).rejects.toThrow(/a token named "li.wei" already exists/);
    expect(await (await TokenStore.load(path)).verify(editor)).toEqual({ name: 'li.wei', role: 'EDITOR' });
  });

  it('refuses invalid names and roles', async () => {
    for (const name of ['', 'a'.repeat(65), 'li wei', '李伟', 'a/b']) {
      await expect(addToken(path, { name, role: 'EDITOR' }), name).rejects.toThrow(/token name must be 1–64 characters/);
    }
    expect(createToken({ name: 'a'.repeat(64), role: 'EDITOR' }).token).toMatch(TOKEN_FORMAT);
    // @ts-expect-error: a role from outside the type, as an untyped caller could pass it
    await expect(addToken(path, { name: 'x', role: 'OWNER' })).rejects.toThrow(/role must be EDITOR or ADMIN, got "OWNER"/);
  });

  it('stops accepting a revoked token once the file is loaded again', async () => {
    const revokable = freshFile();
    const token = await addToken(revokable, { name: 'temp', role: 'EDITOR' });
    const kept = await addToken(revokable, { name: 'kept', role: 'EDITOR' });
    expect(await revokeToken(revokable, 'temp')).toBe(true);
    expect(await revokeToken(revokable, 'temp')).toBe(false);
    expect(await revokeToken(join(dir, 'absent.json'), 'temp')).toBe(false);
    const reloaded = await TokenStore.load(revokable);
    expect(await reloaded.verify(token)).toBeNull();
    expect(await reloaded.verify(kept)).toEqual({ name: 'kept', role: 'EDITOR' });
    expect(statSync(revokable).mode & 0o777).toBe(0o600);
  });

  it('accepts nothing in an empty store', async () => {
    expect(await TokenStore.empty().verify(editor)).toBeNull();
  });
});

describe('loading a tokens file', () => {
  const entry = createToken({ name: 'li.wei', role: 'EDITOR' }).entry;
  const other = createToken({ name: 'wang.fang', role: 'ADMIN' }).entry;

  async function loadError(contents: string): Promise<string> {
    const path = join(dir, 'tokens.json');
    writeFileSync(path, contents);
    const error = await TokenStore.load(path).then(
      () => null,
      (e: Error) => e,
    );
    expect(error, contents).toBeInstanceOf(Error);
    expect(error?.message).toContain(path);
    return error?.message ?? '';
  }
  const file = (tokens: unknown[], version: unknown = 1) => JSON.stringify({ version, tokens });

  it('loads a valid file', async () => {
    const path = join(dir, 'valid.json');
    const { token, entry: created } = createToken({ name: 'zhao', role: 'ADMIN' });
    writeFileSync(path, file([entry, created]));
    expect(await (await TokenStore.load(path)).verify(token)).toEqual({ name: 'zhao', role: 'ADMIN' });
  });

  it('names the file and the problem', async () => {
    expect(await loadError('{"version": 1, "tokens": [')).toMatch(/tokens\.json: not valid JSON/);
    expect(await loadError('[]')).toMatch(/tokens\.json: expected a JSON object/);
    expect(await loadError(file([], 2))).toMatch(/tokens\.json: version must be 1, got 2/);
    expect(await loadError('{"version": 1}')).toMatch(/tokens\.json: tokens must be an array/);
    expect(await loadError(file([entry, other, { ...entry, name: 'x', id: '12345678', role: 'editor' }]))).toMatch(
      /tokens\.json: tokens\[2\]\.role must be EDITOR or ADMIN$/,
    );
    expect(await loadError(file([{ ...entry, name: 'li wei' }]))).toMatch(/tokens\[0\]\.name must be 1–64 characters/);
    expect(await loadError(file([entry, { ...other, name: 'li.wei' }]))).toMatch(
      /tokens\[1\]\.name "li.wei" is already used by tokens\[0\]/,
    );
    expect(await loadError(file([entry, { ...other, id: entry.id }]))).toMatch(/tokens\[1\]\.id is already used by tokens\[0\]/);
    expect(await loadError(file([{ ...entry, id: 'XYZ' }]))).toMatch(/tokens\[0\]\.id must be 8 lowercase hex characters/);
    expect(await loadError(file([{ ...entry, salt: 'c2hvcnQ' }]))).toMatch(/tokens\[0\]\.salt must be 16 bytes in base64url/);
    expect(await loadError(file([{ ...entry, hash: undefined }]))).toMatch(/tokens\[0\]\.hash must be 32 bytes in base64url/);
    expect(await loadError(file([{ ...entry, createdAt: 'yesterday' }]))).toMatch(/tokens\[0\]\.createdAt must be an ISO 8601 time/);
    expect(await loadError(file(['ngt_00000000_secret']))).toMatch(/tokens\[0\] must be an object/);
  });

  it('reports every problem, each with the file name', async () => {
    const message = await loadError(
      file([
        { ...entry, role: 'OWNER' },
        { ...other, salt: 1 },
      ]),
    );
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/tokens\.json: tokens\[0\]\.role must be EDITOR or ADMIN$/),
      expect.stringMatching(/tokens\.json: tokens\[1\]\.salt must be 16 bytes in base64url$/),
    ]);
  });

  it('says clearly that the file is missing', async () => {
    const path = join(dir, 'nowhere', 'tokens.json');
    await expect(TokenStore.load(path)).rejects.toThrow(`${path}: tokens file not found; create it with npm run token -- create NAME`);
  });
});

describe('npm run token', () => {
  const path = () => join(dir, 'cli', 'tokens.json');
  const token = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/auth/cli.ts', ...args], {
      env: { ...process.env, NEWSGRAPH_TOKENS_FILE: path() },
    });
  const failure = (...args: string[]) =>
    token(...args).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('creates a token, printing it once on stdout, in a new owner-only file', async () => {
    const { stdout, stderr } = await token('create', 'li.wei', '--role', 'EDITOR');
    const printed = stdout.trim();
    expect(printed).toMatch(TOKEN_FORMAT);
    expect(stderr).toContain('will not be shown again');
    expect(stderr).not.toContain(printed);
    expect(readFileSync(path(), 'utf8')).not.toContain(secretOf(printed));
    expect(statSync(path()).mode & 0o777).toBe(0o600);
    expect(await (await TokenStore.load(path())).verify(printed)).toEqual({ name: 'li.wei', role: 'EDITOR' });
  });

  it('lists names and roles but no token or hash', async () => {
    const { stdout: created } = await token('create', 'desk', '--role', 'ADMIN');
    const { stdout } = await token('list');
    expect(stdout).toMatch(/li\.wei\s+EDITOR\s+\d{4}-\d\d-\d\dT/);
    expect(stdout).toMatch(/desk\s+ADMIN\s+\d{4}-\d\d-\d\dT/);
    expect(stdout).not.toContain(secretOf(created.trim()));
    expect(stdout).not.toContain('ngt_');
    const [entry] = (JSON.parse(readFileSync(path(), 'utf8')) as { tokens: TokenEntry[] }).tokens;
    expect(stdout).not.toContain(entry?.hash);
    expect(stdout).not.toContain(entry?.salt);
  });

  it('refuses a duplicate name with exit status 1', async () => {
    const error = await failure('create', 'li.wei', '--role', 'ADMIN');
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain('a token named "li.wei" already exists');
    expect(error?.stdout).toBe('');
  });

  it('revokes a token by name', async () => {
    const { stderr } = await token('revoke', 'desk');
    expect(stderr).toContain('Revoked token "desk"');
    expect((await listTokens(path())).map((t) => t.name)).toEqual(['li.wei']);
    const error = await failure('revoke', 'desk');
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain('no token named "desk"');
  });

  it('shows the usage with exit status 2 for a missing or unknown role and other bad usage', async () => {
    const cases: [string[], string][] = [
      [['create', 'zhao'], 'create needs --role EDITOR or --role ADMIN'],
      [['create', 'zhao', '--role', 'OWNER'], '--role must be EDITOR or ADMIN, got "OWNER"'],
      [['create', 'zhao', '--role'], 'argument missing'],
      [['create', '--role', 'EDITOR'], 'create takes one NAME'],
      [['list', 'extra'], 'list takes no arguments'],
      [['revoke'], 'revoke takes one NAME'],
      [['rotate', 'zhao'], 'unknown command "rotate"'],
      [['list', '--verbose'], "Unknown option '--verbose'"],
      [[], 'usage: npm run token'],
    ];
    const errors = await Promise.all(cases.map(([args]) => failure(...args)));
    for (const [index, [args, message]] of cases.entries()) {
      const error = errors[index];
      expect(error?.code, args.join(' ')).toBe(2);
      expect(error?.stderr).toContain(message);
      expect(error?.stderr).toContain('usage: npm run token -- create NAME --role EDITOR|ADMIN');
      expect(error?.stdout).toBe('');
    }
    expect((await listTokens(path())).map((t) => t.name)).toEqual(['li.wei']);
  });

  it('reports an invalid name with exit status 1', async () => {
    const error = await failure('create', 'li wei', '--role', 'EDITOR');
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain('token name must be 1–64 characters');
  });
});
