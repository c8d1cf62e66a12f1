import type { createClient } from '@redis/client';

/** The node-redis client every Redis command newsgraph sends goes through, behind a RedisGuard. */
export type RedisClient = ReturnType<typeof createClient>;

/** Redis is being bypassed: it did not answer in time, or failed, and has not answered a probe since. */
export class RedisUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('Redis is not answering; the shared cache is bypassed until it does', { cause });
    this.name = 'RedisUnavailableError';
  }
}

/** Rejects with `onTimeout()` when `work` has not settled within `ms`; `work` itself goes on. */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  work.catch(() => {});
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Every Redis command newsgraph sends goes through here, so that Redis fails
 * open, and fast. A command that does not answer within `timeoutMs` (a
 * frozen server, a link that carries nothing) or fails (refused, reset)
 * marks Redis unavailable: from then on commands fail at once, without
 * being sent, and callers go past the shared cache to the store. A probe
 * (PING, with the same timeout) runs every `probeMs` meanwhile, and when
 * one answers, commands are sent again. node-redis's own command timeout
 * stops only commands not yet written to the socket, so a command already
 * sent to a frozen server would otherwise wait for as long as it stays
 * frozen; its answer, if it ever comes, is not waited for.
 */
export class RedisGuard {
  private up = true;
  private probe: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly client: RedisClient,
    private readonly options: {
      timeoutMs: number;
      probeMs?: number;
      /** Redis stopped or started answering; `cause` says why it stopped. */
      onChange?: (available: boolean, cause?: unknown) => void;
    },
  ) {
    // A reconnected client is worth probing at once rather than at the next tick of the probe.
    client.on('ready', () => {
      if (!this.up) void this.tryProbe();
    });
  }

  /** Whether commands are being sent. */
  get available(): boolean {
    return this.up;
  }

  /**
   * Runs one command within the timeout, or fails at once while Redis is
   * bypassed. `evenIfBypassed` sends it anyway (still within the timeout),
   * for the rare commands worth a try that may find Redis back before the
   * probe does: a purge not delivered costs its mutation a second.
   */
  async run<T>(command: (client: RedisClient) => Promise<T>, { evenIfBypassed = false }: { evenIfBypassed?: boolean } = {}): Promise<T> {
    if (!this.up && !evenIfBypassed) throw new RedisUnavailableError();
    let result: T;
    try {
      result = await withTimeout(
        command(this.client),
        this.options.timeoutMs,
        () => new Error(`Redis did not answer within ${this.options.timeoutMs} ms`),
      );
    } catch (error) {
      this.bypass(error);
      throw new RedisUnavailableError(error);
    }
    // A command that went through while bypassed is as good as a probe.
    if (!this.up) this.markUp();
    return result;
  }

  /** Stops probing (the server is closing). */
  close(): void {
    this.closed = true;
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
  }

  /** Goes past Redis until a probe answers (it failed, or never answered in the first place). */
  bypass(cause: unknown): void {
    if (!this.up || this.closed) return;
    this.up = false;
    this.options.onChange?.(false, cause);
    this.probe = setInterval(() => void this.tryProbe(), this.options.probeMs ?? 250);
    this.probe.unref();
  }

  private markUp(): void {
    this.up = true;
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
    this.options.onChange?.(true);
  }

  private probing = false;

  private async tryProbe(): Promise<void> {
    if (this.up || this.probing || this.closed) return;
    this.probing = true;
    try {
      await withTimeout(this.client.ping(), this.options.timeoutMs, () => new Error('probe timed out'));
      if (!this.up && !this.closed) this.markUp();
    } catch {
      // Still away; the next tick tries again.
    } finally {
      this.probing = false;
    }
  }
}
