import type { Purger } from '../data/decorators/invalidation.js';
import type { ContentStore, PendingPurge } from '../data/store.js';
import { withTimeout } from './redis-guard.js';

/** The shared response cache as the purges see it. */
export interface PurgeTarget {
  purge(tags: readonly string[]): Promise<void>;
  clear(): Promise<void>;
}

export interface SharedPurgesOptions {
  /** How often the store is read for purges other instances could not deliver (ms). */
  pollMs?: number;
  /**
   * How long one successful read of the store lets this instance answer
   * from the shared cache (ms). A write whose purge could not be delivered
   * waits this long (and a poll) before its mutation returns.
   */
  leaseMs?: number;
  log: {
    warn(fields: object, message: string): void;
    error(fields: object, message: string): void;
    info(fields: object, message: string): void;
  };
}

type Tags = readonly string[] | 'all';

/** How long a purge is retried before it is recorded, and how often: a reconnection takes about 0.1 s. */
const RETRY_FOR_MS = 300;
const RETRY_EVERY_MS = 50;

/**
 * Purges of the response cache that every instance shares in Redis, kept
 * true when Redis or the link to it fails.
 *
 * A write commits in the store, then its purge is sent to Redis. When Redis
 * does not confirm it (away, frozen, or cut off from this instance alone),
 * the purge is recorded in the store, which every instance shares and the
 * write has just reached, and the mutation still succeeds: what was written
 * is never reported as failed. Until a recorded purge is delivered, no
 * instance answers from the shared cache, because the old answer may still
 * be there and served by an instance that can reach Redis.
 *
 * How the others learn of it in time: every instance reads the store's
 * pending purges every `pollMs`, delivers any it finds once Redis answers
 * it, and answers from the shared cache only while its last successful read
 * began less than `leaseMs` ago and found none pending. The instance whose
 * purge failed returns from the mutation only `leaseMs + pollMs` after
 * recording it: by then every instance's read began after the record
 * (and saw it), or its lease has run out; either way none answers from the
 * shared cache after the mutation has returned. The price is that a save
 * made while Redis is away takes about that much longer, and that an
 * instance that cannot read its store for `leaseMs` stops answering fresh
 * hits from the shared cache (it can still answer with a kept answer when
 * the store itself failed: see `stale` in http.ts).
 *
 * Purges that could not even be recorded (the store failed right after the
 * write) are kept in this process and delivered from here.
 */
export class SharedPurges implements Purger {
  private readonly pollMs: number;
  private readonly leaseMs: number;
  /** When the last successful read of the store's pending purges began (epoch ms). */
  private leaseFrom = -Infinity;
  /** Pending purges the last read found, plus those this instance has recorded since. */
  private pendingInStore = 0;
  /** Purges this instance could neither deliver nor record. */
  private readonly local: Tags[] = [];
  /** Records being written, and when the last one was written: a read begun before that may not show it. */
  private recording = 0;
  private recordedAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly store: Pick<ContentStore, 'recordPendingPurge' | 'listPendingPurges' | 'forgetPendingPurges'>,
    private readonly target: PurgeTarget,
    private readonly options: SharedPurgesOptions,
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.leaseMs = options.leaseMs ?? 1000;
  }

  /** Reads the store once (so the shared cache is usable at once) and then every `pollMs`. */
  async start(): Promise<void> {
    await this.poll();
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.poll().finally(tick);
      }, this.pollMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Whether answers may be read from and stored in the shared cache now. */
  usable(now = Date.now()): boolean {
    return this.pendingInStore === 0 && this.recording === 0 && this.local.length === 0 && now - this.leaseFrom < this.leaseMs;
  }

  /** Purges known to be waiting for delivery. */
  pending(): number {
    return this.pendingInStore + this.local.length;
  }

  purge(tags: readonly string[]): Promise<void> {
    return this.send(tags);
  }

  purgeAll(): Promise<void> {
    return this.send('all');
  }

  private async send(tags: Tags): Promise<void> {
    // Redis that has just come back may not be connected yet: a few quick tries before the slow path.
    const tryUntil = Date.now() + RETRY_FOR_MS;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.deliver(tags);
        return;
      } catch (error) {
        if (Date.now() + RETRY_EVERY_MS >= tryUntil) {
          this.options.log.warn(
            { err: error, tags },
            'a purge of the shared cache was not confirmed; recording it for delivery, and going past the shared cache until then',
          );
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
      }
    }
    this.recording++;
    try {
      await this.store.recordPendingPurge({ tags });
      this.recordedAt = Date.now();
      this.pendingInStore++;
    } catch (error) {
      this.local.push(tags);
      this.options.log.error({ err: error, tags }, 'could not record a pending purge in the store either; this instance will deliver it');
    } finally {
      this.recording--;
    }
    // Every other instance has now either read the record or stopped trusting the shared cache.
    await new Promise((resolve) => setTimeout(resolve, this.leaseMs + this.pollMs));
  }

  private deliver(tags: Tags): Promise<void> {
    return tags === 'all' ? this.target.clear() : this.target.purge(tags);
  }

  /** One read of the store's pending purges, delivering what it finds; never throws. */
  private poll(): Promise<void> {
    this.polling ??= this.readAndDeliver().finally(() => (this.polling = null));
    return this.polling;
  }

  private async readAndDeliver(): Promise<void> {
    const began = Date.now();
    let found: PendingPurge[];
    try {
      found = await withTimeout(
        this.store.listPendingPurges(),
        this.leaseMs,
        () => new Error(`the store did not list pending purges within ${this.leaseMs} ms`),
      );
    } catch {
      return; // The lease is not renewed; it runs out by itself.
    }
    // A read begun before this instance's latest record may not show it.
    this.pendingInStore = began > this.recordedAt ? found.length : Math.max(found.length, this.pendingInStore);
    this.leaseFrom = began;
    while (this.local.length > 0) {
      try {
        await this.deliver(this.local[0]!);
        this.local.shift();
      } catch {
        return;
      }
    }
    if (found.length === 0) return;
    const delivered: number[] = [];
    for (const purge of found) {
      try {
        await this.deliver(purge.tags);
        delivered.push(purge.id);
      } catch {
        break; // Redis is still away; the next poll tries again.
      }
    }
    if (delivered.length === 0) return;
    try {
      await this.store.forgetPendingPurges({ ids: delivered });
      this.pendingInStore = Math.max(0, this.pendingInStore - delivered.length);
      this.options.log.info({ purges: delivered.length }, 'delivered pending purges of the shared cache');
    } catch {
      // Delivered but not forgotten: delivering again is harmless.
    }
  }
}
