import { createHash } from 'node:crypto';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { RedisGuard } from './redis-guard.js';
import type { CachedResponse, ResponseStore } from './response-cache.js';

// Stores an answer only if no purge has happened since its request began (the generation is
// unchanged), so an instance finishing a slow request cannot put back what another just purged.
// KEYS: generation, entry. ARGV: generation, body, content type, max-age, ms to keep, expires at, tag keys…
const STORE = `
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'body', ARGV[2], 'type', ARGV[3], 'maxAge', ARGV[4], 'expiresAt', ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
for i = 7, #ARGV do
  redis.call('SADD', ARGV[i], KEYS[2])
  if redis.call('PTTL', ARGV[i]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', ARGV[i], ARGV[5]) end
end
return 1`;

// KEYS: generation. ARGV: tag keys. Bumps the generation first, then drops every answer holding a tag.
const PURGE = `
redis.call('INCR', KEYS[1])
local dropped = 0
for i = 1, #ARGV do
  for _, key in ipairs(redis.call('SMEMBERS', ARGV[i])) do dropped = dropped + redis.call('DEL', key) end
  redis.call('DEL', ARGV[i])
end
return dropped`;

const EVEN_IF_BYPASSED = { evenIfBypassed: true };

/**
 * The response cache in Redis, shared by every instance: an answer stored by
 * one is served by all, and a purge by one (which completes before its
 * mutation returns) drops the answer for all. Keys live under `prefix`:
 * `r:<sha256 of the request key>` for answers (a hash of body, content type,
 * max-age and when it stops being fresh; the key itself lives `staleMs`
 * longer, for `stale`), `t:<tag>` for the set of answers holding a tag, and
 * `generation`. Its size is Redis's to bound (`maxmemory` with an LRU
 * policy); every key also expires. Every command goes through `guard`, so
 * none waits on Redis for longer than its timeout.
 */
export class RedisResponseCache implements ResponseStore {
  constructor(
    private readonly guard: RedisGuard,
    private readonly prefix: string,
    private readonly staleMs = 0,
    /**
     * Whether this instance may trust the shared cache now: for fresh answers
     * (SharedPurges.usable), and for kept answers when the store fails (no
     * purge known to be pending). Always, when absent.
     */
    private readonly trusted: { fresh(): boolean; stale(): boolean } = { fresh: () => true, stale: () => true },
  ) {}

  private entryKey(key: string): string {
    return `${this.prefix}r:${createHash('sha256').update(key).digest('hex')}`;
  }

  usable(): boolean {
    return this.guard.available && this.trusted.fresh();
  }

  private async read(key: string): Promise<CachedResponse | undefined> {
    const fields = await this.guard.run((client) => client.hGetAll(this.entryKey(key)));
    if (fields.body === undefined || fields.type === undefined || fields.maxAge === undefined) return undefined;
    const expiresAt = fields.expiresAt === undefined ? Infinity : Number(fields.expiresAt);
    return { body: Buffer.from(fields.body), contentType: fields.type, maxAgeSeconds: Number(fields.maxAge), tags: [], expiresAt };
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    const entry = await this.read(key);
    return entry && entry.expiresAt > Date.now() ? entry : undefined;
  }

  async stale(key: string): Promise<CachedResponse | undefined> {
    return this.trusted.stale() ? this.read(key) : undefined;
  }

  async generation(): Promise<number> {
    return Number((await this.guard.run((client) => client.get(`${this.prefix}generation`))) ?? 0);
  }

  async set(key: string, entry: CachedResponse, generation: number): Promise<boolean> {
    const ttl = Math.max(1, Math.round(entry.expiresAt - Date.now()));
    const stored = await this.guard.run((client) =>
      client.eval(STORE, {
        keys: [`${this.prefix}generation`, this.entryKey(key)],
        arguments: [
          String(generation),
          entry.body.toString(),
          entry.contentType,
          String(entry.maxAgeSeconds),
          String(ttl + this.staleMs),
          String(entry.expiresAt),
          ...entry.tags.map((tag) => `${this.prefix}t:${tag}`),
        ],
      }),
    );
    return stored === 1;
  }

  // Purges are tried even while Redis is bypassed: one that gets through spares its mutation the
  // wait for a recorded purge (see SharedPurges).
  async purge(tags: readonly string[]): Promise<void> {
    await this.guard.run(
      (client) => client.eval(PURGE, { keys: [`${this.prefix}generation`], arguments: tags.map((tag) => `${this.prefix}t:${tag}`) }),
      EVEN_IF_BYPASSED,
    );
  }

  async clear(): Promise<void> {
    await this.guard.run((client) => client.incr(`${this.prefix}generation`), EVEN_IF_BYPASSED);
    // Each batch is one bounded command; a scan that stalls fails the purge, which is then retried.
    let cursor = '0';
    for (let batches = 0; batches < 100_000; batches++) {
      const reply = await this.guard.run((client) => client.scan(cursor, { MATCH: `${this.prefix}[rt]:*`, COUNT: 1000 }), EVEN_IF_BYPASSED);
      if (reply.keys.length) await this.guard.run((client) => client.unlink(reply.keys), EVEN_IF_BYPASSED);
      cursor = String(reply.cursor);
      if (cursor === '0') return;
    }
  }
}

/**
 * Apollo's key-value cache interface over Redis, for automatic persisted
 * queries shared by every instance. (Apollo's Keyv adapter does the same
 * through two more packages whose ESM and CommonJS type declarations do not
 * match each other.)
 */
export function redisKeyValueCache(guard: RedisGuard, prefix: string): KeyValueCache<string> {
  // With Redis away or slow, a hash is simply not found: clients that use persisted queries send
  // the full query again, as the protocol expects, and the request goes on.
  return {
    get: async (key) => (await guard.run((client) => client.get(prefix + key)).catch(() => null)) ?? undefined,
    set: async (key, value, options) => {
      await guard
        .run((client) => client.set(prefix + key, value, options?.ttl ? { EX: Math.ceil(options.ttl) } : undefined))
        .catch(() => undefined);
    },
    delete: async (key) => {
      await guard.run((client) => client.del(prefix + key)).catch(() => undefined);
    },
  };
}
