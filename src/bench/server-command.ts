import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

const ROOT = new URL('../../', import.meta.url);

/**
 * The server exactly as `npm start` runs it (the same Node flags, the
 * compiled entry), without npm in between, so start-up is the server's own:
 * read from package.json's start script, after building dist/.
 */
export function serverCommand(): { command: string; args: string[] } {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const { scripts } = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = scripts.start.split(/\s+/);
  if (node !== 'node') throw new Error(`package.json's start script no longer starts with node: ${scripts.start}`);
  return { command: process.execPath, args };
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
