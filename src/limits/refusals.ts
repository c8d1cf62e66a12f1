import { setTimeout } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import { rateLimited } from '../errors.js';

/**
 * Statuses that mean "the client sent something we refuse": malformed or
 * over-limit requests, bad tokens, forbidden methods. A portal's readers
 * almost never see one; a scanner or a token guesser sees little else.
 */
const REFUSED = new Set([400, 401, 403, 405, 413, 414, 431]);

export interface RefusalLimit {
  /** Refused requests one client may cause per window before it is cut off. */
  max: number;
  windowMs: number;
  /** How many clients are remembered at once; the least recently seen are forgotten first. */
  clients?: number;
  /** How long a cut-off client waits for its 429 (a tarpit), so a client that ignores Retry-After cannot spin. */
  delayMs?: number;
  /** At most this many 429s are held back at once; beyond it they are answered at once. */
  maxHeld?: number;
}

interface Tally {
  count: number;
  resetAt: number;
}

/**
 * Per-client limit on refused requests. Refusing a request is cheap, but an
 * attacker who keeps sending them still takes event-loop turns from every
 * reader, and a token guesser gets unlimited tries. A client whose requests
 * were refused `max` times within a window gets 429 with Retry-After for the
 * rest of that window, answered before the body is read or any GraphQL work,
 * and after a delay.
 * Readers who never send a bad request are never counted, however many of
 * them share an address. The client is `request.ip`, which honours the
 * configured trusted proxies (X-Forwarded-For).
 */
export function limitRefusals(
  http: FastifyInstance,
  { max, windowMs, clients = 100_000, delayMs = 1000, maxHeld = 1000 }: RefusalLimit,
): RefusalLimiter {
  const tallies = new LRUCache<string, Tally>({ max: clients });
  let held = 0;
  // Until when some client may be cut off: the end of the latest window in which one reached `max`.
  let cuttingOffUntil = 0;

  http.addHook('onRequest', async (request, reply) => {
    const tally = tallies.get(request.ip);
    if (!tally || tally.count < max) return;
    const now = Date.now();
    if (now >= tally.resetAt) {
      tallies.delete(request.ip);
      return;
    }
    const seconds = Math.ceil((tally.resetAt - now) / 1000);
    request.log.debug({ client: request.ip }, 'refused: too many refused requests');
    // A closed-loop attacker would otherwise turn cheap 429s into thousands of event-loop turns a
    // second taken from readers; held back, each of its connections costs one timer per second.
    if (held < maxHeld) {
      held++;
      await setTimeout(Math.min(delayMs, tally.resetAt - now)).finally(() => held--);
    }
    const refusal = rateLimited({ max, windowMs, seconds });
    await reply.code(refusal.status).header('retry-after', String(seconds)).send(refusal.body);
  });

  http.addHook('onResponse', async (request, reply) => {
    if (!REFUSED.has(reply.statusCode)) return;
    const now = Date.now();
    const tally = tallies.get(request.ip);
    let counted = tally;
    if (!counted || now >= counted.resetAt) tallies.set(request.ip, (counted = { count: 1, resetAt: now + windowMs }));
    else counted.count++;
    if (counted.count >= max) cuttingOffUntil = Math.max(cuttingOffUntil, counted.resetAt);
  });
  return { mayCutOff: () => Date.now() < cuttingOffUntil };
}

export interface RefusalLimiter {
  /**
   * False while no client can be cut off: then every request may skip the
   * per-client check (the response cache's edge answers before it).
   */
  mayCutOff(): boolean;
}
