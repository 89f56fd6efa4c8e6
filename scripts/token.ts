/**
 * API tokens from the command line (opens DATA_DIR/kho.sqlite directly).
 *
 *   npm run token -- create --user x --name ci [--days 90 | --no-expiry]   (the secret is printed once)
 *   npm run token -- list [--user x]
 *   npm run token -- revoke --id 12
 */
import { pathToFileURL } from 'node:url';
import { createToken, getUser, listTokens, revokeToken } from '../server/catalogue/accounts.ts';
import { AppError } from '../server/errors.ts';
import { EXIT, commandArgs, withCatalogueDb } from '../server/ops/cli.ts';

const USAGE = `usage (every command also takes --data-dir <dir>, default: DATA_DIR or ./storage):
  npm run token -- create --user <name> --name <label> [--days <n> | --no-expiry]
  npm run token -- list [--user <name>]
  npm run token -- revoke --id <token id>`;

export async function main(argv: string[], env: Record<string, string | undefined>, out: (s: string) => void = console.log): Promise<number> {
  const args = commandArgs(
    argv,
    {
      user: { type: 'string' },
      name: { type: 'string' },
      days: { type: 'string' },
      'no-expiry': { type: 'boolean' },
      id: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    ['create', 'list', 'revoke'],
    USAGE,
    out,
  );
  if (typeof args === 'number') return args;
  const { cmd, values } = args;
  return withCatalogueDb(env, out, values['data-dir'], async (db) => {
    switch (cmd) {
      case 'create': {
        if (!values.user || !values.name) throw new AppError(400, 'USAGE', `--user and --name are required\n${USAGE}`);
        if (values['no-expiry'] && values.days !== undefined) throw new AppError(400, 'USAGE', `--days and --no-expiry exclude each other\n${USAGE}`);
        const days = values['no-expiry'] ? null : values.days === undefined ? 90 : /^\d+$/.test(values.days) ? Number(values.days) : NaN;
        const { token, secret } = createToken(db.sqlite, { user: values.user, name: values.name, days });
        out(`token ${token.id} for ${token.username} "${token.name}", expires ${token.expiresAt ?? 'never'}`);
        out(`secret: ${secret}   (shown once; use as "Authorization: Bearer <secret>")`);
        return 0;
      }
      case 'list': {
        let userId: number | undefined;
        if (values.user) {
          const u = getUser(db.sqlite, values.user);
          if (!u) throw new AppError(404, 'USER_NOT_FOUND', `no user "${values.user}"`, { field: 'user' });
          userId = u.id;
        }
        for (const t of listTokens(db.sqlite, userId)) {
          out([t.id, t.username, t.name, `${t.prefix}…`, t.status, `expires ${t.expiresAt ?? 'never'}`, `last used ${t.lastUsedAt ?? 'never'}`].join('\t'));
        }
        return 0;
      }
      case 'revoke': {
        if (!values.id || !/^\d+$/.test(values.id)) throw new AppError(400, 'USAGE', `--id is required\n${USAGE}`);
        let t;
        try {
          t = revokeToken(db.sqlite, Number(values.id));
        } catch (e) {
          if (e instanceof AppError && e.code === 'TOKEN_NOT_FOUND') throw new AppError(404, 'TOKEN_NOT_FOUND', `no token with id ${values.id} (npm run token -- list shows them)`);
          throw e;
        }
        out(`token ${t.id} (${t.username} "${t.name}") revoked at ${t.revokedAt}`);
        return 0;
      }
      default:
        out(`error: unknown command "${cmd}"\n${USAGE}`);
        return EXIT.usage;
    }
  }, USAGE);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
