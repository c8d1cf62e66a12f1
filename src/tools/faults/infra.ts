// The real dependencies the fault suite breaks on purpose: a private PostgreSQL cluster, a private
// redis-server, a TCP relay that can cut a link, a tmpfs that fills up or turns read-only, and
// newsgraph itself as a child process. Each lives on a free loopback port and in a temporary folder
// of its own, is stopped by its own process id, and never touches the PostgreSQL (5432) or Redis
// (6379) the machine runs. Whatever a crash leaves running is stopped when this process exits.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addToken, type Role } from '../../auth/tokens.js';

/** The repository's root, where `src/main.ts` runs from. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Synchronous last-resort cleanups: 'exit' handlers cannot wait for anything.
const atExit = new Set<() => void>();
process.on('exit', () => {
  for (const cleanup of atExit) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is leaving either way.
    }
  }
});
function cleanUpAtExit(cleanup: () => void): () => void {
  atExit.add(cleanup);
  return () => atExit.delete(cleanup);
}

/** A loopback port nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port was assigned');
  return address.port;
}

/** Runs a command to completion (bounded by `timeoutMs`); rejects with its output when it fails. */
export function run(command: string, args: string[], { timeoutMs = 60_000 }: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`, { cause: error }));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) if (!alive(pid)) return true;
  return !alive(pid);
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Whether `command` can be found on PATH. */
export function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** The folder of the installed PostgreSQL server's binaries (initdb, pg_ctl), or null when none is installed. */
export function postgresBinDir(): string | null {
  try {
    const installed = execFileSync('dpkg', ['-l'], { encoding: 'utf8' });
    const pkg = /^ii\s+(postgresql-\d+)\s/m.exec(installed)?.[1];
    if (!pkg) return null;
    const initdb = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8' })
      .split('\n')
      .find((file) => file.endsWith('/bin/initdb'));
    return initdb && existsSync(initdb) ? dirname(initdb) : null;
  } catch {
    return null;
  }
}

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication; the database's default schema). */
  url: string;
  port: number;
  dir: string;
  /** The postmaster's process id from postmaster.pid; null while it is down. */
  pid(): number | null;
  /** `pg_ctl restart -m fast`: resolves once it accepts connections again. */
  restart(): Promise<void>;
  /** SIGKILL to the postmaster (a crash); resolves once it is gone. Its backends notice and leave by themselves. */
  kill9(): Promise<void>;
  /** `pg_ctl stop` with `mode`, keeping the data for `start()`. */
  shutdown(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start` on the same port: resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server (immediate) and removes its folder. */
  stop(): Promise<void>;
  /** The server's log so far. */
  log(): string;
}

/**
 * A PostgreSQL cluster of its own: initdb in a new folder owned by the
 * postgres user, pg_ctl start on a free loopback port with its socket in
 * that folder. Needs root (the server runs as postgres through runuser).
 */
export async function startPostgresCluster({ port }: { port?: number } = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('the PostgreSQL server binaries are not installed (no postgresql-NN package)');
  if (!isRoot()) throw new Error('a private PostgreSQL cluster needs root (it runs as the postgres user)');
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-faults-pg-'));
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'log');
  const chosen = port ?? (await freePort());
  const asPostgres = (tool: string, args: string[], timeoutMs = 60_000) =>
    run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { timeoutMs });
  const pid = (): number | null => {
    try {
      const first = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(first) && first > 0 && alive(first) ? first : null;
    } catch {
      return null;
    }
  };
  const forget = cleanUpAtExit(() => {
    const running = pid();
    if (running) {
      try {
        execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop'], {
          stdio: 'ignore',
          timeout: 15_000,
        });
      } catch {
        process.kill(running, 'SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const options = `-p ${chosen} -k ${dir} -c listen_addresses=127.0.0.1`;
  const start = async () => {
    // After a kill -9 the old backends may still hold the shared memory for a moment.
    for (let attempt = 1; ; attempt++) {
      try {
        await asPostgres('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', '-o', options, 'start']);
        return;
      } catch (error) {
        if (attempt >= 10) throw error;
        await sleep(300);
      }
    }
  };
  try {
    await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await start();
  } catch (error) {
    forget();
    await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${chosen}/postgres`,
    port: chosen,
    dir,
    pid,
    restart: async () => void (await asPostgres('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', '-m', 'fast', 'restart'])),
    kill9: async () => {
      const running = pid();
      if (running === null) return;
      process.kill(running, 'SIGKILL');
      await waitUntilGone(running, 5_000);
    },
    shutdown: async (mode = 'fast') => void (await asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop'])),
    start,
    stop: async () => {
      const running = pid();
      if (running !== null) {
        await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop'], 15_000).catch(() => {
          if (alive(running)) process.kill(running, 'SIGKILL');
        });
        await waitUntilGone(running, 5_000);
      }
      forget();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface RedisServer {
  url: string;
  port: number;
  pid(): number | null;
  /** SIGSTOP: a hung server. Connections stay open; nothing answers. */
  freeze(): void;
  /** SIGCONT after `freeze()`. */
  thaw(): void;
  /** SIGKILL; resolves once it has exited. Everything it held is gone (no persistence). */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  stop(): Promise<void>;
}

/** Resolves once a Redis server on `port` answers PING; rejects after `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number, gone: () => boolean): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(25)) {
    if (gone()) throw new Error('redis-server exited before it answered PING');
    const answered = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
    });
    if (answered) return;
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

/** A redis-server of its own on a free loopback port, without persistence. */
export async function startRedis({ port }: { port?: number } = {}): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-faults-redis-'));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const forget = cleanUpAtExit(() => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGCONT');
      process.kill(child.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;
  const start = async () => {
    if (running()) throw new Error('redis-server is already running');
    const started = spawn(
      'redis-server',
      ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    started.once('error', (error) => (output += `\n${error.message}`));
    try {
      await waitForPong(chosen, 10_000, () => started.exitCode !== null || started.signalCode !== null);
    } catch (error) {
      started.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${output}`);
    }
  };
  const kill = async () => {
    const current = child;
    if (!current?.pid || !running()) return;
    process.kill(current.pid, 'SIGCONT');
    current.kill('SIGKILL');
    await exited;
  };
  try {
    await start();
  } catch (error) {
    forget();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    pid: () => (running() ? (child?.pid ?? null) : null),
    freeze: () => {
      if (child?.pid && running()) process.kill(child.pid, 'SIGSTOP');
    },
    thaw: () => {
      if (child?.pid && running()) process.kill(child.pid, 'SIGCONT');
    },
    kill,
    start,
    stop: async () => {
      await kill();
      forget();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A TCP relay that can cut a link

/**
 * How a cut link behaves. `refuse`: every connection is closed and new ones
 * are refused (a process that went away, a firewall that rejects).
 * `blackhole`: connections stay open but nothing passes either way, and new
 * ones are accepted and then hear nothing (a network partition); when the
 * link returns, what was held back is delivered, as TCP would.
 */
export type CutMode = 'refuse' | 'blackhole';

interface Link {
  client: Socket;
  upstream: Socket | null;
}

/** Forwards a free loopback port to `target`; `cut()` and `restore()` break and mend the link. */
export class TcpRelay {
  private server: Server | null = null;
  private readonly links = new Set<Link>();
  private mode: CutMode | null = null;
  private readonly forget: () => void;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    this.forget = cleanUpAtExit(() => this.destroyAll());
  }

  static async start(target: { host?: string; port: number }, { port }: { port?: number } = {}): Promise<TcpRelay> {
    const relay = new TcpRelay(port ?? (await freePort()), { host: target.host ?? '127.0.0.1', port: target.port });
    await relay.listen();
    return relay;
  }

  /** The relay's address with the target's scheme, e.g. `redis://127.0.0.1:PORT`. */
  url(scheme: string): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  get state(): 'open' | CutMode {
    return this.mode ?? 'open';
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    const link: Link = { client, upstream: null };
    this.links.add(link);
    client.on('error', () => undefined);
    client.once('close', () => {
      link.upstream?.destroy();
      this.links.delete(link);
    });
    if (this.mode === 'refuse') return void client.destroy();
    client.pause();
    if (this.mode === null) this.connect(link);
    // In a blackhole the client waits, connected to nothing, until `restore()`.
  }

  private connect(link: Link): void {
    const upstream = createConnection(this.target);
    link.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.once('close', () => link.client.destroy());
    upstream.once('connect', () => {
      if (this.mode !== null) return;
      link.client.pipe(upstream);
      upstream.pipe(link.client);
    });
  }

  /** Breaks the link in `mode`; resolves once the break is in place. */
  async cut(mode: CutMode): Promise<void> {
    this.mode = mode;
    if (mode === 'refuse') {
      const server = this.server;
      this.server = null;
      this.destroyAll();
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      return;
    }
    for (const { client, upstream } of this.links) {
      client.unpipe();
      upstream?.unpipe();
      client.pause();
      upstream?.pause();
    }
  }

  /** Mends the link: listens again after `refuse`, lets the held data through after `blackhole`. */
  async restore(): Promise<void> {
    const was = this.mode;
    this.mode = null;
    if (was === 'refuse') return this.listen();
    if (was === 'blackhole') {
      for (const link of this.links) {
        if (link.upstream === null) this.connect(link);
        else if (!link.upstream.connecting) {
          link.client.pipe(link.upstream);
          link.upstream.pipe(link.client);
        }
      }
    }
  }

  private destroyAll(): void {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream?.destroy();
    }
    this.links.clear();
  }

  async close(): Promise<void> {
    this.mode = 'refuse';
    const server = this.server;
    this.server = null;
    this.destroyAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.forget();
  }
}

// ---------------------------------------------------------------------------------------------
// A small disk that fills up or turns read-only

export interface Tmpfs {
  path: string;
  /** Writes a filler file until the disk is full; resolves with the bytes written. */
  fill(): Promise<number>;
  /** Deletes the filler file. */
  free(): void;
  /** `mount -o remount,ro|rw`. */
  remount(mode: 'ro' | 'rw'): Promise<void>;
  unmount(): Promise<void>;
}

/** A tmpfs of `sizeMb` MiB mounted on a new temporary folder. Needs root. */
export async function mountTmpfs(sizeMb: number): Promise<Tmpfs> {
  const path = mkdtempSync(join(tmpdir(), 'newsgraph-faults-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', path], { timeoutMs: 10_000 });
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    throw error;
  }
  const forget = cleanUpAtExit(() => {
    execFileSync('umount', ['-l', path], { stdio: 'ignore', timeout: 10_000 });
    rmSync(path, { recursive: true, force: true });
  });
  const filler = join(path, 'filler');
  return {
    path,
    fill: async () => {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        // Large blocks first, then small ones for the last pages; bounded by the disk's size.
        for (const block of [2 ** 20, 4096, 512]) {
          const chunk = Buffer.alloc(block, 0x2e);
          for (let i = 0; i < (sizeMb * 2 ** 20) / block + 1; i++) {
            try {
              written += writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free: () => {
      if (existsSync(filler)) unlinkSync(filler);
    },
    remount: async (mode) => void (await run('mount', ['-o', `remount,${mode}`, path], { timeoutMs: 10_000 })),
    unmount: async () => {
      await run('umount', ['-l', path], { timeoutMs: 10_000 }).catch(() => undefined);
      forget();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// newsgraph itself

export interface InstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when it exited. */
  at: number;
}

export interface Instance {
  name: string;
  /** `http://127.0.0.1:PORT` */
  address: string;
  port: number;
  pid: number;
  /** The last 256 KiB of its standard output and error. */
  output(): string;
  /** Resolves when it exits, for whatever reason. */
  exited: Promise<InstanceExit>;
  /** Its exit, once it has exited. */
  exit(): InstanceExit | null;
  /** Stops reading its standard output: once the pipe's buffers fill, its writes stall. */
  stopDraining(): void;
  resumeDraining(): void;
  /**
   * Sends `signal` and waits up to `timeoutMs` for it to exit, then SIGKILLs it.
   * Resolves with its exit and how long it took after the signal; `killed` when it had to be killed.
   */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<InstanceExit & { ms: number; killed: boolean }>;
}

/** Settings close to a production deployment's, for instances the fault suite starts. */
export const PRODUCTION_LIKE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  REQUEST_TIMEOUT_MS: '3000',
  SHUTDOWN_TIMEOUT_MS: '5000',
  // One loopback address stands for every reader here; a refusal limit per address would cut them all off.
  MAX_REFUSALS_PER_MINUTE: '0',
};

const OUTPUT_BYTES = 256 * 1024;

/**
 * `node --import tsx src/main.ts` on a free loopback port with
 * `PRODUCTION_LIKE_ENV` and then `env`; resolves once GET /health answers
 * 200, rejects with its output if it exits or does not answer within
 * `startTimeoutMs`.
 */
export async function startInstance(
  env: Record<string, string>,
  { name = 'newsgraph', startTimeoutMs = 60_000 }: { name?: string; startTimeoutMs?: number } = {},
): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...PRODUCTION_LIKE_ENV, ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start node`);
  const pid = child.pid;
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > OUTPUT_BYTES * 2) output = output.slice(-OUTPUT_BYTES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: InstanceExit | null = null;
  const exited = new Promise<InstanceExit>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: performance.now() };
      forget();
      resolve(exit);
    }),
  );
  const forget = cleanUpAtExit(() => {
    if (exit === null) process.kill(pid, 'SIGKILL');
  });
  const address = `http://127.0.0.1:${port}`;
  const stop: Instance['stop'] = async ({ signal = 'SIGTERM', timeoutMs = 15_000 } = {}) => {
    const sent = performance.now();
    if (exit !== null) return { ...(exit as InstanceExit), ms: 0, killed: false };
    child.kill(signal);
    const timedOut = await Promise.race([exited.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
    const final = exit as unknown as InstanceExit;
    return { ...final, ms: final.at - sent, killed: timedOut };
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exit !== null) {
      const { code, signal } = exit as InstanceExit;
      throw new Error(`${name} exited (${signal ?? code}) before it answered /health:\n${output.slice(-4000)}`);
    }
    if (Date.now() > deadline) {
      await stop({ signal: 'SIGKILL', timeoutMs: 5_000 });
      throw new Error(`${name} did not answer /health within ${startTimeoutMs} ms:\n${output.slice(-4000)}`);
    }
    const healthy = await fetch(`${address}/health`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    await sleep(100);
  }
  return {
    name,
    address,
    port,
    pid,
    output: () => output,
    exited,
    exit: () => exit,
    stopDraining: () => child.stdout.pause(),
    resumeDraining: () => child.stdout.resume(),
    stop,
  };
}

/** Adds an editor token named `name` to `tokensFile` (created if missing) and returns the bearer secret. */
export function writeEditorToken(tokensFile: string, name = 'fault-desk', role: Role = 'EDITOR'): Promise<string> {
  return addToken(tokensFile, { name, role });
}
