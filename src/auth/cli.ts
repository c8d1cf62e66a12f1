// npm run token -- create NAME --role EDITOR|ADMIN | list | revoke NAME: manages the editor tokens file
// (NEWSGRAPH_TOKENS_FILE). A new token goes to stdout once; everything else goes to stderr.
import { parseArgs } from 'node:util';
import { runCli } from '../cli.js';
import { loadConfig } from '../config.js';
import { addToken, isRole, listTokens, revokeToken } from './tokens.js';

const USAGE = `usage: npm run token -- create NAME --role EDITOR|ADMIN   add a token and print it once
       npm run token -- list                              names, roles and creation times
       npm run token -- revoke NAME                       remove a token
The tokens file is NEWSGRAPH_TOKENS_FILE (default var/tokens.json).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let command: string | undefined;
  let rest: string[];
  let role: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { role: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) throw new UsageError('');
    [command, ...rest] = positionals;
    role = values.role;
  } catch (error) {
    return usage(error);
  }

  try {
    const path = loadConfig(process.env).tokensFile;
    switch (command) {
      case 'create': {
        const [name, ...extra] = rest;
        if (name === undefined || extra.length > 0) throw new UsageError('create takes one NAME');
        if (role === undefined) throw new UsageError('create needs --role EDITOR or --role ADMIN');
        if (!isRole(role)) throw new UsageError(`--role must be EDITOR or ADMIN, got ${JSON.stringify(role)}`);
        const token = await addToken(path, { name, role });
        console.log(token);
        console.error(`Created ${role} token "${name}" in ${path}. Keep it now: it will not be shown again.`);
        return 0;
      }
      case 'list': {
        if (rest.length > 0 || role !== undefined) throw new UsageError('list takes no arguments');
        const tokens = await listTokens(path);
        if (tokens.length === 0) {
          console.error(`no tokens in ${path}`);
          return 0;
        }
        const width = Math.max(4, ...tokens.map((t) => t.name.length));
        console.log(`${'NAME'.padEnd(width)}  ROLE    CREATED`);
        for (const t of tokens) console.log(`${t.name.padEnd(width)}  ${t.role.padEnd(6)}  ${t.createdAt}`);
        return 0;
      }
      case 'revoke': {
        const [name, ...extra] = rest;
        if (name === undefined || extra.length > 0 || role !== undefined) throw new UsageError('revoke takes one NAME');
        if (!(await revokeToken(path, name))) {
          console.error(`${path}: no token named ${JSON.stringify(name)}`);
          return 1;
        }
        console.error(
          `Revoked token "${name}" in ${path}; a server that loaded the file earlier accepts it until it loads the file again.`,
        );
        return 0;
      }
      default:
        throw new UsageError(command === undefined ? '' : `unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) return usage(error);
    console.error(error instanceof Error ? error.message : error);
    return 1;
  }
}

function usage(error: unknown): number {
  const message = error instanceof Error ? error.message : '';
  console.error(message ? `${message}\n${USAGE}` : USAGE);
  return 2;
}

runCli(main);
